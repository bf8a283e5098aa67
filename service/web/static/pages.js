// Progressive enhancement only: every page works without this file.
// After htmx replaces part of a page, the focus goes to the message that says what happened,
// so a keyboard or screen-reader user is not left on a control that has disappeared.
document.addEventListener("htmx:afterSettle", function () {
  var message = document.getElementById("flash");
  if (message) {
    message.focus();
  }
});
