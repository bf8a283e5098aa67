// Progressive enhancement only: every page works without this file.

// After htmx replaces part of a page, the focus goes to the message that says what happened,
// so a keyboard or screen-reader user is not left on a control that has disappeared.
document.addEventListener("htmx:afterSettle", function () {
  var message = document.getElementById("flash");
  if (message) {
    message.focus();
  }
});

// htmx leaves the page as it was when the server refuses (an expired form, a change that is
// not the person's to make) or cannot be reached. Send the form the plain way instead: the
// server's page then says what went wrong, exactly as it does without a script.
function submitPlainly(event) {
  var form = event.detail.elt;
  if (form && form.tagName === "FORM") {
    form.submit();
  }
}
document.addEventListener("htmx:responseError", submitPlainly);
document.addEventListener("htmx:sendError", submitPlainly);
