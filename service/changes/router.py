from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from service.access import Caller, view_of
from service.auth import TokenToCheck
from service.changes import feed, history
from service.changes.head import FeedHead
from service.changes.models import ChangeKind
from service.changes.schemas import ChangePage, HistoryPage
from service.config import Settings
from service.cursors import FEED_CURSOR_PATTERN
from service.deps import BearerToken, CurrentCaller, SessionDep
from service.errors import problem_responses
from service.fields import ONE_LINE
from service.items.codes import CODE_PATTERN
from service.pagination import DEFAULT_LIMIT, link_next
from service.params import CodePath, ProjectIdPath
from service.projects.service import get_visible_project
from service.routing import OneThreadRoute
from service.sessions import ConnectionGate, Slot, run_gated

router = APIRouter(tags=["changes"], route_class=OneThreadRoute)

SinceQuery = Annotated[
    str | None,
    Query(
        max_length=200,
        description="The `next_cursor` of your last call; omit to start at the beginning.",
        # What is handed out; cursors of earlier releases are read too (service/cursors.py).
        json_schema_extra={"pattern": FEED_CURSOR_PATTERN},
        examples=["1042"],
    ),
]
ItemQuery = Annotated[
    str | None, Query(pattern=CODE_PATTERN, description="Only events of this item code.")
]
KindQuery = Annotated[
    list[ChangeKind], Query(description="created, updated, deleted (repeatable).")
]
FieldQuery = Annotated[
    str | None,
    Query(
        max_length=50,
        pattern=ONE_LINE,
        description="Only events that changed this field, showing only it: `status` gives the "
        "status-change feed.",
        examples=["status"],
    ),
]
WaitQuery = Annotated[
    float,
    Query(ge=0, le=30, description="Seconds to hold the request until something new arrives."),
]
LimitQuery = Annotated[int, Query(ge=1, le=1000, description="At most this many events.")]
OrderQuery = Annotated[
    history.HistoryOrder,
    Query(description="`newest` first (the default) or `oldest` first, in commit order."),
]
HistoryCursorQuery = Annotated[
    str | None,
    Query(
        max_length=200,
        description="The `next_cursor` of the previous page, with the same `order`; omit for "
        "the first.",
        json_schema_extra={"pattern": FEED_CURSOR_PATTERN},
        examples=["1042"],
    ),
]


async def _follow(
    request: Request,
    session: SessionDep,
    token: TokenToCheck,
    since: str | None,
    selection: feed.FeedFilter,
    limit: int,
    wait: float,
) -> ChangePage:
    def first_look() -> tuple[Caller, int, tuple[list[feed.FeedEvent], bool] | None]:
        """In one trip to a thread: the caller, the project's visibility, and a plain page.

        The request's transaction ends here (keeping the token's last use). A plain page
        reads in it, needing no second connection; a held request's looks read in sessions
        of their own, so that while it waits it holds no pooled connection.
        """
        caller = token.caller(session)
        if selection.project_id is not None:
            get_visible_project(session, caller, selection.project_id)
        after = feed.position_of(since)
        found = feed.read_feed(session, caller, after, selection, limit) if wait <= 0 else None
        session.commit()
        return caller, after, found

    caller, after, found = await run_in_threadpool(first_look)
    if found is not None:
        events, has_more = found
        return feed.page(events, after, has_more, selection.field)
    settings: Settings = request.app.state.settings
    deadline = time.monotonic() + min(wait, settings.changes_max_wait_seconds)

    head: FeedHead = request.app.state.feed_head
    gate: ConnectionGate = request.app.state.connection_gate
    factory: sessionmaker[Session] = request.app.state.session_factory
    slot: Slot = request.state.db_slot
    view = view_of(caller)

    def look() -> tuple[list[feed.FeedEvent], bool]:
        with factory() as own:
            return feed.read_feed(own, caller, after, selection, limit)

    async with slot.lent():  # the looks take slots of their own; waiting needs none
        seen = head.known  # every event up to here is committed, so the look sees it
        events, has_more = await run_gated(gate, look)
        while not events and time.monotonic() < deadline:
            if not await head.wait_past(seen, deadline):
                break
            seen = head.known
            events, has_more = await head.shared(
                (view, after, selection, limit), seen, lambda: run_gated(gate, look)
            )
        return feed.page(events, after, has_more, selection.field)


@router.get("/changes", responses=problem_responses(401, 422, 429))
async def list_changes(
    request: Request,
    session: SessionDep,
    token: BearerToken,
    since: SinceQuery = None,
    item: ItemQuery = None,
    kind: KindQuery = [],  # noqa: B006 - FastAPI copies query defaults per request
    field: FieldQuery = None,
    wait: WaitQuery = 0,
    limit: LimitQuery = 100,
) -> ChangePage:
    """Every change in the projects the caller may see, after a cursor, in commit order.

    Keep `next_cursor` and pass it as `since`: each committed event comes exactly once, even
    while many writers commit at once. With `wait`, the request is held until something new
    arrives (long poll). Each event names its actor, source (API call or import id) and time,
    and each field's old and new value.
    """
    selection = feed.FeedFilter(None, item, tuple(kind), field)
    return await _follow(request, session, token, since, selection, limit, wait)


@router.get("/projects/{project_id}/changes", responses=problem_responses(401, 404, 422, 429))
async def list_project_changes(
    request: Request,
    project_id: ProjectIdPath,
    session: SessionDep,
    token: BearerToken,
    since: SinceQuery = None,
    item: ItemQuery = None,
    kind: KindQuery = [],  # noqa: B006 - FastAPI copies query defaults per request
    field: FieldQuery = None,
    wait: WaitQuery = 0,
    limit: LimitQuery = 100,
) -> ChangePage:
    """One project's changes after a cursor, in commit order.

    The same feed as across projects, for one project.
    """
    selection = feed.FeedFilter(project_id, item, tuple(kind), field)
    return await _follow(request, session, token, since, selection, limit, wait)


@router.get(
    "/projects/{project_id}/items/{code}/history",
    responses=problem_responses(401, 404, 422, 429),
)
def get_item_history(
    request: Request,
    response: Response,
    project_id: ProjectIdPath,
    code: CodePath,
    session: SessionDep,
    caller: CurrentCaller,
    order: OrderQuery = history.HistoryOrder.newest,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: HistoryCursorQuery = None,
) -> HistoryPage:
    """An item's history: every change to it, newest or oldest first.

    The same events as the change feed, for one item: who changed what, through what, each
    field's old and new value. Pages follow `next_cursor` (also sent as a `Link: rel="next"`
    header). The history is the item's as it is now: a code reused after a delete starts anew.
    """
    project = get_visible_project(session, caller, project_id)
    page = history.item_history(session, project, code, order=order, cursor=cursor, limit=limit)
    link_next(request, response, page.next_cursor)
    return page
