"""Mail: plain text with an HTML part saying the same, a link back, never an attachment.

Municipal mail gateways on the LGWAN side strip attachments or turn them into images, and
many readers see only the text part: everything is in the text, the HTML only lays it out.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from email.message import EmailMessage
from email.utils import formatdate
from html import escape

from service.config import Settings
from service.tabular import Language
from service.webhooks.messages import Message, more
from service.webhooks.outbound import Outcome

SUBJECT_PREFIX = "[wbs-sync] "


def _html(message: Message, language: Language) -> str:
    parts = [
        f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">',
        f"<title>{escape(message.title)}</title></head><body>",
        f"<h1>{escape(message.title)}</h1>",
    ]
    if message.summary:
        parts.append(f"<p>{escape(message.summary)}</p>")
    for section in message.sections:
        if section.heading:
            parts.append(f"<h2>{escape(section.heading)}</h2>")
        parts.append("<ul>")
        for entry in section.entries:
            label = escape(entry.text)
            if entry.link:
                parts.append(f'<li><a href="{escape(entry.link)}">{label}</a></li>')
            else:
                parts.append(f"<li>{label}</li>")
        if section.more:
            parts.append(f"<li>{escape(more(section.more, language))}</li>")
        parts.append("</ul>")
    parts.append(
        f'<p><a href="{escape(message.link)}">{escape(message.link_label)}</a>: '
        f"{escape(message.link)}</p></body></html>"
    )
    return "".join(parts)


def compose(
    message: Message, language: Language, *, sender: str, to: str, message_id: str
) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = SUBJECT_PREFIX + message.title
    mail["From"] = sender
    mail["To"] = to
    mail["Date"] = formatdate(localtime=False)
    # The same on every attempt: a reader's mail program shows a retried mail once.
    domain = sender.rpartition("@")[2] or "wbs-sync"
    mail["Message-ID"] = f"<{message_id}@{domain}>"
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.plain_text(language), charset="utf-8")
    mail.add_alternative(_html(message, language), subtype="html", charset="utf-8")
    return mail


def send(mail: EmailMessage, settings: Settings) -> Outcome:
    """Blocking: run it in a thread."""
    started = time.perf_counter()

    def elapsed() -> int:
        return round((time.perf_counter() - started) * 1000)

    if not settings.smtp_host:
        return Outcome(False, error="no mail server is configured (WBS_SMTP_HOST)")
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.webhook_timeout_seconds
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                password = (
                    settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                )
                smtp.login(settings.smtp_user, password)
            smtp.send_message(mail)
    except smtplib.SMTPResponseException as error:
        reply = (
            error.smtp_error.decode("utf-8", "replace")
            if isinstance(error.smtp_error, bytes)
            else str(error.smtp_error)
        )
        return Outcome(
            False,
            status_code=error.smtp_code,
            error=f"the mail server refused: {error.smtp_code} {reply}"[:300],
            duration_ms=elapsed(),
        )
    except smtplib.SMTPRecipientsRefused as error:
        codes = ", ".join(f"{code}" for code, _ in error.recipients.values())
        return Outcome(
            False, error=f"the mail server refused the address ({codes})", duration_ms=elapsed()
        )
    except (smtplib.SMTPException, OSError) as error:
        return Outcome(False, error=f"{type(error).__name__}: {error}"[:300], duration_ms=elapsed())
    return Outcome(True, status_code=250, duration_ms=elapsed())
