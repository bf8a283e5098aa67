"""Uploading a sheet: the dry run's diff first, then the person confirms or cancels.

Between the two the sheet waits in the database (PendingUpload), not in a process or a form,
so the confirmation works without a script and whichever process receives it.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from service.changes.models import ChangeEvent
from service.changes.service import Actor
from service.config import Settings
from service.db import utcnow
from service.errors import NotFound, PayloadTooLarge, ServiceError
from service.fields import MAX_ID
from service.imports import service as imports
from service.imports.answer import AnswerList, ImportOutcome
from service.imports.models import ImportRecord
from service.imports.options import ImportOptions
from service.imports.schemas import ImportCounts, MissingItem
from service.params import ProjectIdPath
from service.people.models import PendingUpload
from service.projects.models import Project
from service.projects.service import get_visible_project
from service.web.browser import (
    CheckedForm,
    CurrentPerson,
    LongPageRoute,
    Person,
    SessionDep,
    WritingPerson,
)
from service.web.render import page, words_for

router = APIRouter(route_class=LongPageRoute, include_in_schema=False)

# Entries of each list a diff page shows; the counts are always whole.
SHOWN = 500
PAST_IMPORTS = 20
PendingPath = Annotated[int, Path(ge=1, le=MAX_ID)]


def feed_position_of_project(session: Session, project_id: int) -> int:
    """The newest feed position among the project's events (0 before any)."""
    return (
        session.scalar(
            select(func.max(ChangeEvent.seq)).where(ChangeEvent.project_id == project_id)
        )
        or 0
    )


def first_entries(chunks: Iterator[bytes], limit: int) -> list[Any]:
    """The first entries of a JSON array read from chunks, without reading the rest."""
    decoder, text = json.JSONDecoder(), ""
    utf8 = codecs.getincrementaldecoder("utf-8")()
    entries: list[Any] = []
    position = 0
    for chunk in chunks:
        text = text[position:] + utf8.decode(chunk)
        position = 0
        while len(entries) < limit:
            while position < len(text) and text[position] in "[, \n":
                position += 1
            if position >= len(text) or text[position] == "]":
                break
            try:
                entry, position = decoder.raw_decode(text, position)
            except json.JSONDecodeError:
                break  # the entry goes on in the next chunk
            entries.append(entry)
        if len(entries) >= limit or text[position : position + 1] == "]":
            break
    return entries


@dataclass
class Diff:
    counts: ImportCounts
    sheet: str
    created: list[Any]
    updated: list[Any]
    unchanged: list[Any]
    conflicts: list[Any]
    missing: list[MissingItem]
    skipped: list[Any]


def _entries(answer: AnswerList) -> list[Any]:
    return first_entries(answer.chunks(), SHOWN)


def _diff(outcome: ImportOutcome) -> Diff:
    try:
        plan, summary = outcome.answer, outcome.summary
        return Diff(
            counts=summary.counts,
            sheet=summary.sheet,
            created=_entries(plan.created),
            updated=_entries(plan.updated),
            unchanged=_entries(plan.unchanged),
            conflicts=_entries(plan.conflicts),
            missing=summary.missing,
            skipped=[s.model_dump() for s in summary.skipped],
        )
    finally:
        outcome.close()


def _limits(request: Request) -> Any:
    settings: Settings = request.app.state.settings
    return settings.import_limits


def _run(
    request: Request,
    session: Session,
    person: Person,
    project: Project,
    content: bytes,
    file_name: str,
    sheet: str | None,
    *,
    dry_run: bool,
) -> ImportOutcome:
    options = ImportOptions(file_name=file_name, sheet=sheet, dry_run=dry_run)
    upload = io.BytesIO(content)
    return imports.run_import(
        session, project, Actor.of(person.caller), upload, options, _limits(request)
    )


def _upload_page(
    request: Request,
    session: Session,
    person: Person,
    project: Project,
    *,
    status: int = 200,
    problem: ServiceError | None = None,
    **context: Any,
) -> Response:
    past = session.scalars(
        select(ImportRecord)
        .where(ImportRecord.project_id == project.id)
        .order_by(ImportRecord.id.desc())
        .limit(PAST_IMPORTS)
    )
    pending = session.scalar(
        select(PendingUpload.id).where(
            PendingUpload.token_id == person.caller.token_id,
            PendingUpload.project_id == project.id,
            PendingUpload.expires_at > utcnow(),
        )
    )
    settings: Settings = request.app.state.settings
    return page(
        request,
        "upload.html",
        person=person,
        status=status,
        project=project,
        past=[imports.to_read(record) for record in past],
        pending=pending,
        problem=problem,
        sheet_errors=problem.extra.get("sheet_errors", []) if problem else [],
        candidates=problem.extra.get("candidates", []) if problem else [],
        max_mb=settings.import_max_upload_mb,
        **context,
    )


@router.get("/projects/{project_id}/upload")
def upload_page(
    request: Request,
    project_id: ProjectIdPath,
    session: SessionDep,
    person: CurrentPerson,
    imported: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    cancelled: bool = False,
) -> Response:
    project = get_visible_project(session, person.caller, project_id)
    record = imports.get_import(session, project, imported) if imported else None
    return _upload_page(request, session, person, project, imported=record, cancelled=cancelled)


def _diff_page(
    request: Request,
    person: Person,
    project: Project,
    pending: PendingUpload,
    diff: Diff,
    *,
    status: int = 200,
    moved: bool = False,
) -> Response:
    return page(
        request,
        "upload_diff.html",
        person=person,
        status=status,
        project=project,
        pending=pending,
        diff=diff,
        moved=moved,
        shown=SHOWN,
    )


@router.post("/projects/{project_id}/upload", dependencies=[CheckedForm])
def upload(
    request: Request,
    project_id: ProjectIdPath,
    session: SessionDep,
    person: WritingPerson,
    file: Annotated[UploadFile, File()],
    sheet: Annotated[str, Form(max_length=255)] = "",
) -> Response:
    project = get_visible_project(session, person.caller, project_id)
    settings: Settings = request.app.state.settings
    limit = settings.import_limits.max_upload_bytes
    content = file.file.read(limit + 1)
    file_name = (file.filename or "upload.xlsx")[-255:]
    words = words_for(request)
    if len(content) > limit:
        problem = PayloadTooLarge(
            words(
                f"ファイルが{settings.import_max_upload_mb}MiBを超えています。",
                f"The file is larger than {settings.import_max_upload_mb} MiB.",
            )
        )
        return _upload_page(request, session, person, project, status=413, problem=problem)
    try:
        outcome = _run(
            request, session, person, project, content, file_name, sheet or None, dry_run=True
        )
    except ServiceError as error:
        session.rollback()
        return _upload_page(
            request, session, person, project, status=error.status, problem=error, sheet=sheet
        )
    diff = _diff(outcome)
    # One sheet waits per person and project: a new upload replaces the one before.
    session.execute(
        delete(PendingUpload).where(
            PendingUpload.token_id == person.caller.token_id,
            PendingUpload.project_id == project.id,
        )
    )
    now = utcnow()
    pending = PendingUpload(
        project_id=project.id,
        token_id=person.caller.token_id,
        file_name=file_name,
        sheet=sheet or None,
        content=content,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        feed_position=feed_position_of_project(session, project.id),
        created_at=now,
        expires_at=now + timedelta(minutes=settings.web_upload_minutes),
    )
    session.add(pending)
    session.flush()
    return _diff_page(request, person, project, pending, diff)


def _pending(session: Session, person: Person, project: Project, pending_id: int) -> PendingUpload:
    pending = session.get(PendingUpload, pending_id)
    if (
        pending is None
        or pending.token_id != person.caller.token_id
        or pending.project_id != project.id
        or pending.expires_at <= utcnow()
    ):
        raise NotFound(f"upload {pending_id} not found")
    return pending


@router.get("/projects/{project_id}/upload/{pending_id}")
def pending_page(
    request: Request,
    project_id: ProjectIdPath,
    pending_id: PendingPath,
    session: SessionDep,
    person: WritingPerson,
) -> Response:
    """The diff of a waiting sheet again, as it would apply now (after a reload, say)."""
    project = get_visible_project(session, person.caller, project_id)
    pending = _pending(session, person, project, pending_id)
    outcome = _run(
        request,
        session,
        person,
        project,
        pending.content,
        pending.file_name,
        pending.sheet,
        dry_run=True,
    )
    pending.feed_position = feed_position_of_project(session, project.id)
    return _diff_page(request, person, project, pending, _diff(outcome))


@router.post("/projects/{project_id}/upload/{pending_id}/confirm", dependencies=[CheckedForm])
def confirm_upload(
    request: Request,
    project_id: ProjectIdPath,
    pending_id: PendingPath,
    session: SessionDep,
    person: WritingPerson,
) -> Response:
    project = get_visible_project(session, person.caller, project_id)
    pending = _pending(session, person, project, pending_id)
    args = (request, session, person, project, pending.content, pending.file_name, pending.sheet)
    now_at = feed_position_of_project(session, project.id)
    if now_at != pending.feed_position:
        # The project changed since the diff was shown: what would apply is not what the
        # person saw. Show them what would apply now, and let them confirm that.
        pending.feed_position = now_at
        diff = _diff(_run(*args, dry_run=True))
        return _diff_page(request, person, project, pending, diff, status=409, moved=True)
    try:
        outcome = _run(*args, dry_run=False)
    except ServiceError as error:
        session.rollback()
        return _upload_page(request, session, person, project, status=error.status, problem=error)
    record_id = outcome.summary.id
    outcome.close()
    session.delete(pending)
    return RedirectResponse(f"/projects/{project.id}/upload?imported={record_id}", status_code=303)


@router.post("/projects/{project_id}/upload/{pending_id}/cancel", dependencies=[CheckedForm])
def cancel_upload(
    project_id: ProjectIdPath,
    pending_id: PendingPath,
    session: SessionDep,
    person: WritingPerson,
) -> Response:
    project = get_visible_project(session, person.caller, project_id)
    session.delete(_pending(session, person, project, pending_id))
    return RedirectResponse(f"/projects/{project.id}/upload?cancelled=true", status_code=303)
