"""What a delivery says to a person, in Japanese or English, whatever carries it (chat, mail).

Built from the delivery's stored payload, so a retry says exactly what the first attempt said.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from service.items.fields import FIELDS_BY_NAME
from service.tabular import Language, word

# Lines of a list shown in a message; the rest are counted ("…and 12 more") and linked.
SHOWN = 20

_FIELD_WORDS: dict[str, dict[Language, str]] = {
    name: {"ja": field.export_ja, "en": field.export_en} for name, field in FIELDS_BY_NAME.items()
}


@dataclass(frozen=True)
class Entry:
    text: str
    link: str | None = None


@dataclass(frozen=True)
class Section:
    heading: str
    entries: list[Entry]
    more: int = 0


@dataclass(frozen=True)
class Message:
    title: str
    summary: str
    link: str
    link_label: str
    sections: list[Section] = field(default_factory=list)

    def plain_text(self, language: Language) -> str:
        """The whole message as plain text (mail, LINE WORKS, chat fallbacks)."""
        lines = [self.summary, ""] if self.summary else []
        for section in self.sections:
            lines.append(f"■ {section.heading}")
            for entry in section.entries:
                lines.append(f"・{entry.text}")
                if entry.link:
                    lines.append(f"  {entry.link}")
            if section.more:
                lines.append("・" + more(section.more, language))
            lines.append("")
        lines.append(f"{self.link_label}: {self.link}")
        return "\n".join(lines)


_TEXT: dict[str, dict[Language, str]] = {
    "item.created": {"ja": "作業項目が追加されました", "en": "Item added"},
    "item.updated": {"ja": "作業項目が更新されました", "en": "Item updated"},
    "item.status_changed": {"ja": "状況が変わりました", "en": "Status changed"},
    "item.deleted": {"ja": "作業項目が削除されました", "en": "Item deleted"},
    "import.completed": {"ja": "WBSの取込が完了しました", "en": "WBS import completed"},
    "item.overdue": {"ja": "期限を過ぎました", "en": "Now overdue"},
    "digest.daily": {"ja": "本日の期限超過・期限間近", "en": "Overdue and due soon today"},
    "subscription.disabled": {"ja": "通知先を停止しました", "en": "Notifications stopped"},
    "webhook.test": {"ja": "テスト通知", "en": "Test message"},
    "open": {"ja": "wbs-sync で開く", "en": "Open in wbs-sync"},
    "by": {"ja": "変更者", "en": "By"},
    "overdue": {"ja": "期限超過（こちら側）", "en": "Overdue on your side"},
    "due_soon": {"ja": "期限間近（{days}日以内）", "en": "Due within {days} days"},
    "waiting": {
        "ja": "相手側の遅れで止まっている作業",
        "en": "Late on the other side, holding up your next step",
    },
    "holds_up": {"ja": "後続", "en": "holds up"},
    "days_late": {"ja": "{days}日超過", "en": "{days} days late"},
    "due_on": {"ja": "{day}まで", "en": "due {day}"},
    "counts": {
        "ja": "期限超過 {overdue}件・期限間近 {due_soon}件・相手側待ち {waiting}件",
        "en": "{overdue} overdue, {due_soon} due soon, {waiting} waiting on the other side",
    },
    "import_counts": {
        "ja": "{file}（シート {sheet}）: 追加 {created}件・更新 {updated}件・削除 {deleted}件・"
        "競合 {conflicts}件",
        "en": "{file} (sheet {sheet}): {created} created, {updated} updated, {deleted} deleted, "
        "{conflicts} conflicts",
    },
    "disabled": {
        "ja": "「{name}」（{target}）への通知を停止しました。理由: {reason}。"
        "宛先を直してから有効にしてください。止まっていた間の変更から送り直します。",
        "en": "Notifications to “{name}” ({target}) were stopped: {reason}. Fix the target and "
        "enable it again; it resumes with the changes made meanwhile.",
    },
    "test": {
        "ja": "「{name}」の設定を確かめるテストです。",
        "en": "A test of the settings of “{name}”.",
    },
    "planned_end": {"ja": "終了予定日", "en": "planned end"},
}


def text(key: str, language: Language, **values: Any) -> str:
    return _TEXT[key][language].format(**values)


def more(count: int, language: Language) -> str:
    return f"ほか {count} 件" if language == "ja" else f"…and {count} more"


def _value(value: Any, language: Language) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(part) for part in value)
    return str(word(value, language))


def field_name(name: str, language: Language) -> str:
    return _FIELD_WORDS.get(name, {}).get(language, name)


def item_link(public_url: str, project_id: int, code: str) -> str:
    return f"{public_url.rstrip('/')}/projects/{project_id}/items/{quote(code, safe='')}"


def project_link(public_url: str, project_id: int) -> str:
    return f"{public_url.rstrip('/')}/projects/{project_id}"


def _change_message(data: Mapping[str, Any], kind: str, language: Language, base: str) -> Message:
    label = f"{data['item_code']} {data.get('item_title') or ''}".strip()
    changes = data.get("changes", [])
    if kind == "item.status_changed":
        status = next(change for change in changes if change["field"] == "status")
        headline = f"{label}: {_value(status['old'], language)} → {_value(status['new'], language)}"
    else:
        headline = label
    shown = [] if kind in ("item.created", "item.deleted") else changes
    entries = [
        Entry(
            f"{field_name(change['field'], language)}: {_value(change['old'], language)} → "
            f"{_value(change['new'], language)}"
        )
        for change in shown[:SHOWN]
    ]
    actor = f"{text('by', language)}: {data['actor']['label']}"
    link = item_link(base, data["project_id"], data["item_code"])
    if kind == "item.deleted":
        link = project_link(base, data["project_id"])
    return Message(
        title=f"{text(kind, language)}: {headline}",
        summary=f"{data['project_name']} — {actor}",
        link=link,
        link_label=text("open", language),
        sections=[Section("", entries, max(0, len(shown) - SHOWN))] if entries else [],
    )


def _row_entry(row: Mapping[str, Any], language: Language, base: str, *, blocks: bool) -> Entry:
    days = row["days_overdue"]
    when = (
        text("days_late", language, days=days)
        if days > 0
        else text("due_on", language, day=row["planned_end"])
    )
    line = f"{row['project']['name']} {row['code']} {row['title']}" + (
        f"（{when}）" if language == "ja" else f" ({when})"
    )
    if blocks and row.get("blocks"):
        waiting = "、".join(f"{b['code']} {b['title']}" for b in row["blocks"][:3])
        line += f" — {text('holds_up', language)}: {waiting}"
    return Entry(line, item_link(base, row["project"]["id"], row["code"]))


def _rows(rows: Sequence[Mapping[str, Any]], total: int, *, blocks: bool,
          language: Language, base: str) -> tuple[list[Entry], int]:  # fmt: skip
    entries = [_row_entry(row, language, base, blocks=blocks) for row in rows[:SHOWN]]
    return entries, max(0, total - len(entries))


def _digest_message(data: Mapping[str, Any], language: Language, base: str) -> Message:
    counts = data["counts"]
    sections = []
    for key, rows, total, blocks in (
        ("overdue", data["overdue"], counts["overdue"], True),
        ("due_soon", data["due_soon"], counts["due_soon"], False),
        ("waiting", data["waiting_on_others"], counts["waiting_on_others"], True),
    ):
        if total:
            entries, more = _rows(rows, total, blocks=blocks, language=language, base=base)
            heading = text(key, language, days=data.get("due_within_days", 7))
            sections.append(Section(heading, entries, more))
    summary = text(
        "counts",
        language,
        overdue=counts["overdue"],
        due_soon=counts["due_soon"],
        waiting=counts["waiting_on_others"],
    )
    return Message(
        title=f"{text('digest.daily', language)} {data['day']} — {data['organisation']['name']}",
        summary=summary,
        link=data["link"],
        link_label=text("open", language),
        sections=sections,
    )


def render(kind: str, payload: Mapping[str, Any], language: Language, base: str) -> Message:
    data = payload["data"]
    if kind in ("item.created", "item.updated", "item.status_changed", "item.deleted"):
        return _change_message(data, kind, language, base)
    if kind == "import.completed":
        counts = data["counts"]
        return Message(
            title=f"{text(kind, language)}: {data['project_name']}",
            summary=text(
                "import_counts",
                language,
                file=data["file_name"],
                sheet=data["sheet"],
                **counts,
            )
            + f" — {text('by', language)}: {data['actor_label']}",
            link=project_link(base, data["project_id"]),
            link_label=text("open", language),
        )
    if kind == "item.overdue":
        entry = _row_entry(data, language, base, blocks=True)
        return Message(
            title=f"{text(kind, language)}: {data['code']} {data['title']}",
            summary=f"{entry.text} — {text('planned_end', language)} {data['planned_end']}",
            link=data["link"],
            link_label=text("open", language),
        )
    if kind == "digest.daily":
        return _digest_message(data, language, base)
    if kind == "subscription.disabled":
        return Message(
            title=f"{text(kind, language)}: {data['name']}",
            summary=text("disabled", language, **data),
            link=f"{base.rstrip('/')}/docs#/webhooks",
            link_label=text("open", language),
        )
    return Message(
        title=f"{text('webhook.test', language)}: {data['name']}",
        summary=text("test", language, name=data["name"]),
        link=base,
        link_label=text("open", language),
    )
