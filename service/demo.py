"""Demo data: a PMO, two municipalities sharing one vendor, and a realistic WBS each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.changes.models import ChangeSource
from service.changes.service import Actor
from service.db import utcnow
from service.items.models import CLOSED_STATUSES, Responsibility, Status
from service.items.schemas import ItemCreate
from service.items.service import create_item
from service.national import Business
from service.organisations.models import Organisation, OrgKind
from service.partners.models import Partnership
from service.people.service import issue_link, link_url
from service.projects.models import Project
from service.tokens.models import ApiToken
from service.tokens.service import issue_token

DEMO_TOKEN_NAME = "demo"
# The demo is loaded once: its vendor's presence says it has been.
DEMO_VENDOR = "mirai-sys"
CONSORTIUM = "みどり地域自治体クラウド"
PROJECT_NAME = "住民記録システム標準化移行"

ORGANISATIONS = (
    ("pmo", OrgKind.pmo, "標準化推進PMO", None),
    ("sakura-town", OrgKind.municipality, "さくら町", "990001"),
    ("midori-city", OrgKind.municipality, "みどり市", "990002"),
    ("mirai-sys", OrgKind.vendor, "みらい情報システム株式会社", None),
)

V, M, J = Responsibility.vendor, Responsibility.municipality, Responsibility.joint


@dataclass(frozen=True)
class Step:
    code: str
    title: str
    responsibility: Responsibility
    start: int  # days after the project starts
    days: int
    assignee: str | None = None
    deliverable: str | None = None
    predecessors: tuple[str, ...] = ()
    not_applicable: bool = False


SECTIONS = (
    ("1", "プロジェクト計画", J),
    ("2", "現行業務調査・Fit&Gap分析", J),
    ("3", "データ移行", J),
    ("4", "ガバメントクラウド環境構築", V),
    ("5", "テスト", J),
    ("6", "研修・運用準備", J),
    ("7", "本番移行", J),
    ("8", "プロジェクト完了", J),
)

STEPS = (
    Step("1-1", "プロジェクト計画書作成", V, 0, 14, "PM", "プロジェクト計画書"),
    Step("1-2", "推進体制・連絡窓口の確定", M, 0, 10, "企画課", "体制図"),
    Step("1-3", "キックオフ会議", J, 15, 1, None, "議事録", ("1-1", "1-2")),
    Step("2-1", "現行業務フローの整理", M, 16, 30, "住民課", "業務フロー図", ("1-3",)),
    Step("2-2", "標準仕様書との差異分析", V, 16, 40, "SE", "Fit&Gap一覧", ("1-3",)),
    Step("2-3", "Fit&Gap結果の確認・承認", M, 57, 14, "住民課", None, ("2-1", "2-2")),
    Step("2-4", "カスタマイズ要否の判断", J, 72, 10, None, "判断結果一覧", ("2-3",)),
    Step("3-1", "データ移行計画書作成", V, 30, 20, "移行担当", "移行計画書", ("1-3",)),
    Step("3-2", "現行ベンダへのデータ抽出依頼", M, 51, 10, "情報政策課", "抽出依頼書", ("3-1",)),
    Step("3-3", "現行データ抽出", V, 62, 20, "移行担当", "抽出データ", ("3-2",)),
    Step("3-4", "データクレンジング", M, 83, 30, "住民課", None, ("3-3",)),
    Step("3-5", "移行リハーサル（1回目）", V, 114, 10, "移行担当", "リハーサル結果報告", ("3-4",)),
    Step("3-6", "移行リハーサル結果の確認", M, 125, 14, "住民課", None, ("3-5",)),
    Step("3-7", "移行リハーサル（2回目）", V, 140, 10, "移行担当", "リハーサル結果報告", ("3-6",)),
    Step("4-1", "ガバメントクラウド利用申請", M, 20, 30, "情報政策課", "利用申請書", ("1-3",)),
    Step("4-2", "ネットワーク接続設計", V, 51, 21, "基盤担当", "ネットワーク設計書", ("4-1",)),
    Step("4-3", "接続回線の手配・開通", J, 73, 30, "情報政策課", None, ("4-2",)),
    Step("4-4", "本番・検証環境構築", V, 104, 21, "基盤担当", "環境構築完了報告", ("4-3",)),
    Step("5-1", "テスト計画書作成", V, 90, 14, "SE", "テスト計画書", ("2-4",)),
    Step("5-2", "結合テスト", V, 126, 21, "SE", "テスト結果報告書", ("4-4", "5-1")),
    Step("5-3", "受入テストシナリオ作成", M, 120, 21, "住民課", "受入テストシナリオ", ("5-1",)),
    Step("5-4", "受入テスト実施", M, 148, 21, "住民課", "受入テスト結果", ("5-2", "5-3")),
    Step("5-5", "不具合対応", V, 148, 35, "SE", "不具合管理表", ("5-2",)),
    Step("6-1", "操作研修計画の作成", V, 130, 10, "SE", "研修計画書"),
    Step("6-2", "職員向け操作研修", J, 170, 14, "住民課", "研修資料", ("6-1",)),
    Step("6-3", "運用マニュアル整備", V, 150, 30, "SE", "運用マニュアル"),
    Step("6-4", "例規・様式の改正", M, 120, 60, "総務課", "改正例規"),
    Step("6-5", "住民への周知", M, 170, 20, "住民課", "広報記事"),
    Step("7-1", "本番移行判定会議", J, 190, 1, None, "判定結果", ("5-4", "3-7", "6-2")),
    Step("7-2", "本番データ移行", V, 192, 3, "移行担当", "移行結果報告", ("7-1",)),
    Step("7-3", "本番稼働確認", J, 195, 5, "住民課", None, ("7-2",)),
    Step(
        "7-4", "現行システム停止・データ消去", V, 200, 14, "基盤担当", "データ消去証明書", ("7-3",)
    ),
    Step("8-1", "完了報告", V, 215, 5, "PM", "完了報告書", ("7-4",)),
    Step("8-2", "検収", M, 221, 10, "企画課", "検収書", ("8-1",)),
    Step("8-3", "他システム連携の改修", V, 100, 30, None, None, (), True),
)


# Where each task sits in the national procedure (service/national.py): the PMO's layout of
# the demo towns reads it.
NATIONAL_STEPS = {
    "1-1": "1-1", "1-2": "1-1", "1-3": "1-3", "2-1": "2-1", "2-2": "3-1", "2-3": "3-1",
    "2-4": "3-2", "3-1": "4-2", "3-2": "9-1", "3-3": "12-1", "3-4": "12-2", "3-5": "13-3",
    "3-6": "12-3", "3-7": "13-3", "4-1": "10-1", "4-2": "10-1", "4-3": "10-1", "4-4": "10-2",
    "5-1": "13-1", "5-2": "13-1", "5-3": "13-2", "5-4": "13-2", "5-5": "13-2", "6-1": "14-1",
    "6-2": "14-1", "6-3": "14-2", "6-4": "15-2", "6-5": "16-3", "7-1": "16-1", "7-2": "16-2",
    "7-3": "16-3", "7-4": "18-1", "8-1": "17-2", "8-2": "17-2", "8-3": "11-2",
}  # fmt: skip


def _status(
    step: Step, start: date, end: date, today: date, overdue: set[str]
) -> tuple[Status, int]:
    if step.not_applicable:
        return Status.not_applicable, 0
    if step.code in overdue:
        return Status.in_progress, 60
    if end < today:
        return Status.done, 100
    if start <= today:
        elapsed = (today - start).days + 1
        return Status.in_progress, min(90, 100 * elapsed // ((end - start).days + 1))
    return Status.not_started, 0


def _states(
    windows: dict[str, tuple[date, date]], today: date, overdue: set[str]
) -> dict[str, tuple[Status, int]]:
    """Each step's status; work waiting on an unfinished step has not started."""
    states: dict[str, tuple[Status, int]] = {}
    for step in STEPS:
        state = _status(step, *windows[step.code], today, overdue)
        if any(states[p][0] not in CLOSED_STATUSES for p in step.predecessors):
            state = (Status.not_started, 0)
        states[step.code] = state
    return states


def _load_wbs(
    session: Session, project: Project, actor: Actor, start: date, today: date, overdue: set[str]
) -> None:
    windows = {
        s.code: (start + timedelta(s.start), start + timedelta(s.start + s.days - 1)) for s in STEPS
    }
    all_states = _states(windows, today, overdue)
    for code, title, responsibility in SECTIONS:
        steps = [s for s in STEPS if s.code.split("-")[0] == code]
        states = {s.code: all_states[s.code] for s in steps}
        if all(status in CLOSED_STATUSES for status, _ in states.values()):
            section_status = Status.done
        elif any(status is not Status.not_started for status, _ in states.values()):
            section_status = Status.in_progress
        else:
            section_status = Status.not_started
        create_item(
            session,
            project,
            actor,
            ItemCreate(
                code=code,
                title=title,
                responsibility=responsibility,
                planned_start=min(windows[s.code][0] for s in steps),
                planned_end=max(windows[s.code][1] for s in steps),
                status=section_status,
                progress=sum(p for _, p in states.values()) // len(steps),
                business=Business.juminkiroku,
            ),
        )
        for step in steps:
            begin, end = windows[step.code]
            status, progress = states[step.code]
            create_item(
                session,
                project,
                actor,
                ItemCreate(
                    code=step.code,
                    title=step.title,
                    responsibility=step.responsibility,
                    assignee=step.assignee,
                    planned_start=begin,
                    planned_end=end,
                    actual_start=begin if status in (Status.in_progress, Status.done) else None,
                    actual_end=end if status is Status.done else None,
                    status=status,
                    progress=progress,
                    deliverable=step.deliverable,
                    notes="本団体では対象外" if step.not_applicable else None,
                    predecessors=list(step.predecessors),
                    step=NATIONAL_STEPS.get(step.code),
                    business=Business.juminkiroku,
                ),
            )


def _overdue_candidates(start: date, today: date, picks: int) -> set[str]:
    """Steps that ended shortly before today and hold up work not yet due: the late ones."""

    def end(step: Step) -> date:
        return start + timedelta(step.start + step.days - 1)

    successors = {s.code: [t for t in STEPS if s.code in t.predecessors] for s in STEPS}
    ended = sorted(
        (
            s
            for s in STEPS
            if end(s) < today
            and not s.not_applicable
            and all(end(t) >= today for t in successors[s.code])
        ),
        key=end,
        reverse=True,
    )
    municipal = [s.code for s in ended if s.responsibility is M][: picks - 1]
    vendor = [s.code for s in ended if s.responsibility is V][:1]
    return set(municipal + vendor)


def load_demo(session: Session, today: date) -> bool:
    """Load the demo organisations and projects unless present; True when loaded now."""
    if session.scalar(select(Organisation.id).where(Organisation.code == DEMO_VENDOR)) is not None:
        return False
    orgs = {}
    for code, kind, name, lg in ORGANISATIONS:
        existing = session.scalar(select(Organisation).where(Organisation.code == code))
        orgs[code] = existing or Organisation(
            kind=kind, code=code, name=name, local_government_code=lg
        )
    session.add_all(orgs.values())
    session.flush()
    vendor = orgs[DEMO_VENDOR]
    actor = Actor(vendor.id, vendor.kind, f"{vendor.code}/{DEMO_TOKEN_NAME}", ChangeSource.demo)
    # Each town's plan is anchored a fixed number of days before today, so the demo shows the
    # same picture whichever day it is loaded: a few late items on both sides in each town.
    for town, days_ago in (("sakura-town", 143), ("midori-city", 122)):
        session.add(Partnership(municipality=orgs[town], vendor=vendor, granted_by=f"{town}/demo"))
        project = Project(
            municipality=orgs[town], vendor=vendor, name=PROJECT_NAME, consortium=CONSORTIUM
        )
        session.add(project)
        session.flush()
        start = today - timedelta(days=days_ago)
        _load_wbs(session, project, actor, start, today, _overdue_candidates(start, today, 3))
    return True


def issue_demo_tokens(session: Session) -> dict[str, str]:
    """Fresh tokens for each demo organisation; earlier demo tokens are revoked."""
    now = utcnow()
    secrets: dict[str, str] = {}
    for code, *_ in ORGANISATIONS:
        organisation = session.scalar(select(Organisation).where(Organisation.code == code))
        if organisation is None:
            continue
        for old in session.scalars(
            select(ApiToken).where(
                ApiToken.organisation_id == organisation.id,
                ApiToken.name == DEMO_TOKEN_NAME,
                ApiToken.revoked_at.is_(None),
            )
        ):
            old.revoked_at = now
        _token, secrets[code] = issue_token(session, organisation, DEMO_TOKEN_NAME)
    return secrets


def issue_demo_links(session: Session, base_url: str, hours: int) -> dict[str, str]:
    """A one-time sign-in link for each demo organisation's current demo token."""
    links: dict[str, str] = {}
    for code, *_ in ORGANISATIONS:
        token = session.scalar(
            select(ApiToken)
            .join(Organisation, Organisation.id == ApiToken.organisation_id)
            .where(
                Organisation.code == code,
                ApiToken.name == DEMO_TOKEN_NAME,
                ApiToken.revoked_at.is_(None),
            )
            .order_by(ApiToken.id.desc())
            .limit(1)
        )
        if token is not None:
            _link, secret = issue_link(session, token, "demo", hours)
            links[code] = link_url(base_url, secret)
    return links
