from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Header, Query, Request, Response

from service.changes.service import Actor
from service.concurrency import IF_MATCH_PATTERN, etag
from service.config import Settings
from service.deps import CurrentCaller, SessionDep, Today, WritingCaller
from service.errors import problem_responses
from service.fields import ONE_LINE, Day, Instant
from service.items import bulk, service
from service.items.codes import CODE_PATTERN
from service.items.models import Responsibility, Status
from service.items.schemas import BulkPush, BulkResult, ItemCreate, ItemPage, ItemRead, ItemUpdate
from service.national import Business, NationalStep
from service.pagination import DEFAULT_LIMIT, ItemCursorQuery, LimitQuery, link_next
from service.params import AssigneeQuery, CodePath, ProjectIdPath
from service.projects.service import get_visible_project
from service.routing import OneThreadRoute

router = APIRouter(
    prefix="/projects/{project_id}/items", tags=["items"], route_class=OneThreadRoute
)

AsOfQuery = Annotated[
    Day | None,
    Query(description="Day `overdue` is computed for; default today in WBS_TIMEZONE."),
]
IfMatchHeader = Annotated[
    str | None,
    Header(
        description='The ETag last read, e.g. `"v3"`, or `*`; a stale one answers 412.',
        max_length=1000,
        # What clients send; the server reads any value as HTTP says: one naming no tag it
        # handed out (or none at all) is a condition that fails, 412.
        json_schema_extra={"pattern": IF_MATCH_PATTERN},
    ),
]


@router.get("", responses=problem_responses(401, 404, 422, 429))
def list_items(
    request: Request,
    response: Response,
    project_id: ProjectIdPath,
    session: SessionDep,
    caller: CurrentCaller,
    today: Today,
    responsibility: Responsibility | None = Query(None, description="Whose item it is."),
    status: list[Status] = Query([], description="Any of these statuses (repeatable)."),
    assignee: AssigneeQuery = None,
    step: list[NationalStep] = Query(
        [], description="Any of these national steps (repeatable; `3-2` or `③-2`)."
    ),
    business: list[Business] = Query([], description="Any of these businesses (repeatable)."),
    parent: str | None = Query(
        None, pattern=CODE_PATTERN, description="Only the direct children of this code."
    ),
    overdue: bool | None = Query(
        None, description="true: only overdue items; false: only items that are not."
    ),
    due_before: Day | None = Query(None, description="Planned end on or before this day."),
    due_after: Day | None = Query(None, description="Planned end on or after this day."),
    updated_since: Instant | None = Query(
        None, description="Changed at or after this instant (a time without zone is WBS_TIMEZONE)."
    ),
    q: str | None = Query(
        None,
        min_length=1,
        max_length=200,
        pattern=ONE_LINE,
        description="Text in code, title or description.",
    ),
    as_of: AsOfQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: ItemCursorQuery = None,
) -> ItemPage:
    """List a project's items in natural code order.

    Filters combine with AND. Pages follow `next_cursor` (also sent as a `Link: rel="next"`
    header); `2` sorts before `10` and `1-2` before `1-10`.
    """
    project = get_visible_project(session, caller, project_id, parties=False)
    day = as_of or today
    settings: Settings = request.app.state.settings
    if updated_since is not None and updated_since.tzinfo is None:
        updated_since = updated_since.replace(tzinfo=settings.zone)
    filters = service.ItemFilters(
        as_of=day,
        responsibility=responsibility,
        statuses=tuple(status),
        assignee=assignee,
        parent=parent,
        overdue=overdue,
        due_before=due_before,
        due_after=due_after,
        updated_since=updated_since,
        text=q,
        steps=tuple(step),
        businesses=tuple(business),
    )
    items, next_cursor = service.list_items(session, project, filters, cursor=cursor, limit=limit)
    link_next(request, response, next_cursor)
    return ItemPage(items=items, next_cursor=next_cursor)


@router.post("", status_code=201, responses=problem_responses(401, 403, 404, 409, 422, 429))
def create_item(
    request: Request,
    response: Response,
    project_id: ProjectIdPath,
    data: ItemCreate,
    session: SessionDep,
    caller: WritingCaller,
    today: Today,
) -> ItemRead:
    """Create an item.

    The parent comes from `parent_code` or from the code itself (`1-2-3` → `1-2`) and must
    exist. Only the project's vendor and the PMO add items.
    """
    project = get_visible_project(session, caller, project_id, parties=False)
    item = service.create_item(session, project, Actor.of(caller), data)
    response.headers["ETag"] = etag(item.version)
    # Headers are Latin-1; codes such as `ア` must travel percent-encoded.
    location = request.url_for("get_item", project_id=project.id, code=quote(item.code, safe=""))
    response.headers["Location"] = str(location)
    return service.to_read(item, today)


@router.post("/bulk", responses=problem_responses(401, 403, 404, 409, 412, 422, 429))
def push_items(
    project_id: ProjectIdPath, data: BulkPush, session: SessionDep, caller: WritingCaller
) -> BulkResult:
    """Create or update up to 1,000 items by code, all or nothing.

    New codes are created (parents before children), known codes get a partial update of the
    fields sent. An entry carrying a stale `version` fails the whole push with 412 listing
    every stale code; any other error fails it too, naming the entry. Ownership applies as
    for PATCH.
    """
    project = get_visible_project(session, caller, project_id, parties=False)
    return BulkResult(items=bulk.push_items(session, project, Actor.of(caller), data))


@router.get("/{code}", responses=problem_responses(401, 404, 422, 429))
def get_item(
    request: Request,
    response: Response,
    project_id: ProjectIdPath,
    code: CodePath,
    session: SessionDep,
    caller: CurrentCaller,
    today: Today,
    as_of: AsOfQuery = None,
) -> ItemRead:
    """Get one item by its code.

    The ETag header carries its version, for a later If-Match.
    """
    project = get_visible_project(session, caller, project_id, parties=False)
    item = service.read_item(session, project, code, as_of or today)
    response.headers["ETag"] = etag(item.version)
    return item


@router.patch("/{code}", responses=problem_responses(401, 403, 404, 409, 412, 422, 429))
def update_item(
    request: Request,
    response: Response,
    project_id: ProjectIdPath,
    code: CodePath,
    data: ItemUpdate,
    session: SessionDep,
    caller: WritingCaller,
    today: Today,
    if_match: IfMatchHeader = None,
) -> ItemRead:
    """Update the fields sent.

    Each side changes only what it owns: the vendor the plan, the responsible side the
    progress, anyone the notes; 403 names the refused fields. A stale If-Match answers 412
    with the current version.
    """
    project = get_visible_project(session, caller, project_id, parties=False)
    item = service.update_item(session, project, Actor.of(caller), code, data, if_match=if_match)
    response.headers["ETag"] = etag(item.version)
    return service.to_read(item, today)


@router.delete(
    "/{code}", status_code=204, responses=problem_responses(401, 403, 404, 409, 412, 422, 429)
)
def delete_item(
    project_id: ProjectIdPath,
    code: CodePath,
    session: SessionDep,
    caller: WritingCaller,
    if_match: IfMatchHeader = None,
) -> Response:
    """Delete an item.

    Refused with 409 while it has children or other items name it as a predecessor. Its
    change history stays.
    """
    project = get_visible_project(session, caller, project_id, parties=False)
    service.delete_item(session, project, Actor.of(caller), code, if_match=if_match)
    return Response(status_code=204)
