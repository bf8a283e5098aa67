"""A message in the body each chat's incoming webhook expects.

- Slack incoming webhooks: `text` (the notification and fallback) and Block Kit `blocks`
  (https://api.slack.com/messaging/webhooks).
- Microsoft Teams Workflows ("Send webhook alerts to a channel"): a message carrying one
  Adaptive Card attachment, card version 1.4.
- LINE WORKS Incoming Webhook app: `{"title", "body": {"text"}}`, plain text
  (https://developers.worksmobile.com/jp/docs/webhook).
"""

from __future__ import annotations

from typing import Any

from service.tabular import Language
from service.webhooks.messages import Message, more

# Slack: a section's text holds at most 3,000 characters, a header's 150.
_SLACK_SECTION = 3000
_SLACK_HEADER = 150
# LINE WORKS: the text of one message holds at most 2,000 characters.
_LINE_WORKS_TEXT = 2000
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack(message: Message, language: Language) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _cut(message.title, _SLACK_HEADER)},
        }
    ]
    if message.summary:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _cut(_slack_escape(message.summary), 3000)},
            }
        )
    for section in message.sections:
        lines = [f"*{_slack_escape(section.heading)}*"] if section.heading else []
        for entry in section.entries:
            label = _slack_escape(entry.text)
            lines.append(f"• <{entry.link}|{label}>" if entry.link else f"• {label}")
        if section.more:
            lines.append(f"• {more(section.more, language)}")
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _cut("\n".join(lines), _SLACK_SECTION)},
            }
        )
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": message.link_label},
                    "url": message.link,
                }
            ],
        }
    )
    # The top-level text is mrkdwn too: the notification and what clients without blocks show.
    fallback = _slack_escape(f"{message.title}\n{message.summary}".strip())
    return {"text": _cut(fallback, 3000), "blocks": blocks}


def _markdown_escape(text: str) -> str:
    for character in "\\[]()*_":
        text = text.replace(character, "\\" + character)
    return text


def teams(message: Message, language: Language) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": message.title,
            "size": "Large",
            "weight": "Bolder",
            "wrap": True,
            "style": "heading",
        }
    ]
    if message.summary:
        body.append({"type": "TextBlock", "text": message.summary, "wrap": True})
    for section in message.sections:
        if section.heading:
            body.append(
                {
                    "type": "TextBlock",
                    "text": section.heading,
                    "weight": "Bolder",
                    "wrap": True,
                    "spacing": "Medium",
                }
            )
        lines = [
            f"- [{_markdown_escape(entry.text)}]({entry.link})"
            if entry.link
            else f"- {_markdown_escape(entry.text)}"
            for entry in section.entries
        ]
        if section.more:
            lines.append(f"- {more(section.more, language)}")
        body.append({"type": "TextBlock", "text": "\n".join(lines), "wrap": True})
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": [{"type": "Action.OpenUrl", "title": message.link_label, "url": message.link}],
        "msteams": {"width": "Full"},
    }
    return {
        "type": "message",
        "attachments": [{"contentType": ADAPTIVE_CARD, "contentUrl": None, "content": card}],
    }


def line_works(message: Message, language: Language) -> dict[str, Any]:
    return {
        "title": _cut(message.title, 200),
        "body": {"text": _cut(message.plain_text(language), _LINE_WORKS_TEXT)},
    }
