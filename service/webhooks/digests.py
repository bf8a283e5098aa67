"""Reminders: the daily digest of each subscription, and `item.overdue` once per item.

Overdue is computed, never stored (`items.service.overdue_clause`); what is stored is only
that an item's notice went out, and for which planned end, so a replanned item can become
overdue again. A digest is made once per subscription and local day (WBS_TIMEZONE), and is
sent only when it has something to say.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from service.access import is_responsible
from service.items.models import Item, Responsibility
from service.items.service import overdue_clause
from service.organisations.models import Organisation, OrgKind
from service.organisations.schemas import OrganisationRef
from service.reports.schemas import OverdueRow
from service.reports.service import ReportScope, overdue_report, overdue_rows
from service.webhooks import events
from service.webhooks.messages import item_link
from service.webhooks.models import (
    DigestSent,
    EventType,
    OverdueNotice,
    Subscription,
)
from service.webhooks.planner import (
    add,
    add_one,
    delivery_row,
    lock,
    organisation_view,
    visible_project_ids,
)
from service.webhooks.schemas import DigestCounts, DigestData

# Items a digest considers, most overdue first; and rows it lists per section.
DIGEST_SCOPE = 5000
DIGEST_LIST = 50
# Newly overdue items handled per round.
OVERDUE_BATCH = 1000
# Any number, the same in every worker: who holds it runs the reminders (PostgreSQL).
_REMINDER_LOCK = 0x77B5_5EED


def digest_data(
    session: Session, subscription: Subscription, organisation: Organisation, day: date,
    public_url: str,
) -> DigestData:  # fmt: skip
    report = overdue_report(
        session,
        ReportScope(organisation_view(organisation)),
        as_of=day,
        due_within=subscription.due_within_days,
        limit=DIGEST_SCOPE,
    )
    chosen = set(subscription.project_ids)
    sides = set(subscription.responsibilities)

    def ours(responsibility: Responsibility) -> bool:
        if sides:
            return responsibility.value in sides
        return organisation.kind is OrgKind.pmo or is_responsible(organisation.kind, responsibility)

    rows = [row for row in report.rows if not chosen or row.project.id in chosen]
    overdue = [r for r in rows if r.state == "overdue" and ours(r.responsibility)]
    due_soon = [r for r in rows if r.state == "due_soon" and ours(r.responsibility)]
    waiting = [
        r
        for r in rows
        if r.state == "overdue"
        and not ours(r.responsibility)
        and any(ours(blocked.responsibility) for blocked in r.blocks)
    ]
    return DigestData(
        day=day,
        organisation=OrganisationRef.model_validate(organisation),
        due_within_days=subscription.due_within_days,
        overdue=overdue[:DIGEST_LIST],
        due_soon=due_soon[:DIGEST_LIST],
        waiting_on_others=waiting[:DIGEST_LIST],
        counts=DigestCounts(
            overdue=len(overdue), due_soon=len(due_soon), waiting_on_others=len(waiting)
        ),
        truncated=report.next_cursor is not None,
        link=public_url.rstrip("/") + "/",
    )


def has_news(data: DigestData) -> bool:
    counts = data.counts
    return bool(counts.overdue or counts.due_soon or counts.waiting_on_others)


def queue_digest(
    session: Session, subscription: Subscription, data: DigestData, now: datetime
) -> int:
    lock(session, subscription.id)
    payload = events.body(EventType.digest_daily, now, data.model_dump(mode="json"))
    return add_one(session, delivery_row(subscription.id, EventType.digest_daily, payload, now)).id


def _reminders_are_ours(session: Session) -> bool:
    """One worker at a time makes reminders; the others skip the round."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    held = session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _REMINDER_LOCK})
    return bool(held)


def remind(
    session: Session, now: datetime, zone: ZoneInfo, catch_up_days: int, public_url: str
) -> int:
    """Digests that are due and overdue notices not yet sent; the deliveries made."""
    if not _reminders_are_ours(session):
        return 0
    local = now.astimezone(zone)
    return _digests(session, now, local, public_url) + _overdue_notices(
        session, local.date(), catch_up_days, public_url, now
    )


def _digests(session: Session, now: datetime, local: datetime, public_url: str) -> int:
    today = local.date()
    done = set(session.scalars(select(DigestSent.subscription_id).where(DigestSent.day == today)))
    clock = local.strftime("%H:%M")
    made = 0
    for subscription in session.scalars(select(Subscription).where(Subscription.enabled)):
        if (
            EventType.digest_daily.value not in subscription.event_types
            or subscription.id in done
            or subscription.digest_time > clock
        ):
            continue
        organisation = session.get(Organisation, subscription.organisation_id)
        assert organisation is not None
        data = digest_data(session, subscription, organisation, today, public_url)
        delivery_id = queue_digest(session, subscription, data, now) if has_news(data) else None
        session.add(DigestSent(subscription_id=subscription.id, day=today, delivery_id=delivery_id))
        made += delivery_id is not None
    return made


def _overdue_notices(
    session: Session, as_of: date, catch_up_days: int, public_url: str, now: datetime
) -> int:
    newly = list(
        session.scalars(
            select(Item)
            .outerjoin(OverdueNotice, OverdueNotice.item_id == Item.id)
            .where(
                overdue_clause(as_of),
                Item.planned_end >= as_of - timedelta(days=catch_up_days),
                or_(
                    OverdueNotice.item_id.is_(None),
                    OverdueNotice.planned_end != Item.planned_end,
                ),
            )
            .order_by(Item.planned_end, Item.id)
            .limit(OVERDUE_BATCH)
        )
    )
    if not newly:
        return 0
    rows = overdue_rows(session, newly, as_of)
    made = 0
    for subscription in session.scalars(select(Subscription).where(Subscription.enabled)):
        if EventType.item_overdue.value not in subscription.event_types:
            continue
        organisation = session.get(Organisation, subscription.organisation_id)
        assert organisation is not None
        visible = visible_project_ids(session, organisation)
        chosen = set(subscription.project_ids) or visible
        sides = set(subscription.responsibilities)
        wanted = [
            (item, row)
            for item, row in zip(newly, rows, strict=True)
            if item.project_id in visible & chosen
            and (not sides or item.responsibility.value in sides)
        ]
        if wanted:
            lock(session, subscription.id)
            add(session, [_overdue_delivery(subscription, item, row, as_of, public_url, now)
                          for item, row in wanted])  # fmt: skip
            made += len(wanted)
    for item in newly:
        assert item.planned_end is not None
        session.merge(OverdueNotice(item_id=item.id, planned_end=item.planned_end, notified_at=now))
    return made


def _overdue_delivery(
    subscription: Subscription, item: Item, row: OverdueRow, as_of: date, public_url: str,
    now: datetime,
) -> dict[str, object]:  # fmt: skip
    data = {
        **row.model_dump(mode="json"),
        "as_of": as_of.isoformat(),
        "link": item_link(public_url, item.project_id, item.code),
    }
    payload = events.body(EventType.item_overdue, now, data)
    return delivery_row(subscription.id, EventType.item_overdue, payload, now)
