"""Applying an upload to a project: preview it, dry-run it, or import it; and the records.

Nothing is written unless every row is valid (all or nothing): the writes go into the caller's
transaction, and an import that finds a problem raises so the caller rolls them back. Fields
the caller does not own come back as conflicts and are not applied; the rest still applies.

An import streams, in passes that hand each other values:
1. reading.py reads the sheet once, putting its rows aside on disk and keeping only each row's
   code, ID and links;
2. checks.py runs the checks that need the whole sheet on those (matching, parents,
   predecessors, cycles);
3. the rows come back a slice at a time: plan.py diffs each slice against its items, and
4. writes.py writes it, while its part of the answer goes to disk (answer.py).
Memory stays flat however long the sheet is: holding every stage of 100,000 rows cost more
than a gigabyte.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from importers.advice import column_problems
from importers.results import Diagnostic
from importers.sheet import SheetLayout
from importers.sources import Limits
from service import metrics
from service.access import may_plan
from service.changes.service import Actor
from service.errors import NotFound, ServiceError, SheetDiagnostic, Unprocessable
from service.imports.answer import ImportAnswer, ImportOutcome
from service.imports.checks import CheckedSheet, check_sheet
from service.imports.known import current_columns, load_project_items
from service.imports.models import ImportRecord
from service.imports.options import ImportOptions
from service.imports.plan import Planner
from service.imports.preview import detection_of, preview_row
from service.imports.reading import ReadSheet, in_row_order, read_sheet, reading, row_problems
from service.imports.schemas import (
    IgnoredColumn,
    ImportCounts,
    ImportPreview,
    ImportRead,
    ImportResult,
    MissingItem,
    SheetSummary,
)
from service.imports.writes import ImportWriter
from service.projects.models import Project
from service.sessions import note_load

PREVIEW_ROWS = 20
_NO_SIDES = (
    "new items need their responsibility (担当), and the sheet has no such column: add one, "
    "or map it"
)


def _diagnostic(d: Diagnostic) -> SheetDiagnostic:
    return SheetDiagnostic(
        sheet=d.sheet,
        row=d.row,
        column=d.column,
        value=d.value,
        message=d.message,
        mapping=d.mapping,
    )


def _with_advice(errors: list[Diagnostic], rows: int, layout: SheetLayout) -> list[Diagnostic]:
    """The problems said of whole columns first, then every row's, complete."""
    # Rows refused whole (no code) are not among the rows read, but are rows of the sheet.
    rows = max(rows, len({error.row for error in errors if error.row}))
    return [*column_problems(errors, rows, layout), *errors]


def sheet_refused(errors: list[Diagnostic], rows: int, layout: SheetLayout) -> Unprocessable:
    """The answer to a sheet with problems: every one, where it sits, and nothing written."""
    errors = _with_advice(errors, rows, layout)
    count = len(errors)
    return Unprocessable(
        f"sheet {layout.sheet!r} has {count} problem{'s' if count > 1 else ''}; "
        "nothing was written",
        # A mapping appears only on the problems said of a whole column.
        extra={"sheet_errors": [_diagnostic(d).model_dump(exclude_defaults=True) for d in errors]},
    )


def _sheets(layout: SheetLayout) -> list[SheetSummary]:
    return [
        SheetSummary(name=s.name, role=s.role, header_rows=s.header_rows, mapping=s.mapping)
        for s in layout.sheets
    ]


def _ignored(layout: SheetLayout) -> list[IgnoredColumn]:
    return [
        IgnoredColumn(column=i.column, header=i.header, reason=i.reason)
        for i in layout.ignored_columns
    ]


def preview(upload: IO[bytes], options: ImportOptions, limits: Limits) -> ImportPreview:
    """How the upload reads: its layout, its first rows as read, and every problem in it."""
    with reading(upload, options, limits, keep_cells=PREVIEW_ROWS) as (layout, stream):
        first, dated = [], []
        read = 0
        # Every row is read, for the problems; only the first are kept.
        for number, row in enumerate(stream):
            if number < PREVIEW_ROWS:
                first.append(row)
            dated += row_problems(layout, row)
            read = number + 1
        end = stream.end()
    problems = in_row_order(end.errors, dated)
    return ImportPreview(
        sheet=layout.sheet,
        sheets=_sheets(layout),
        header_rows=layout.header_rows,
        mapping=layout.mapping,
        ignored_columns=_ignored(layout),
        rows=[preview_row(layout, row) for row in first],
        errors=[_diagnostic(d) for d in _with_advice(problems, read, layout)],
        skipped=[_diagnostic(d) for d in end.skipped],
        detection=detection_of(layout),
    )


def run_import(
    session: Session,
    project: Project,
    actor: Actor,
    upload: IO[bytes],
    options: ImportOptions,
    limits: Limits,
    progress: Callable[[int], None] | None = None,
) -> ImportOutcome:
    """Import an upload into the caller's transaction, or with `dry_run` say what it would do.

    The rows are written as they are checked, so a sheet whose problem shows late has written
    its earlier rows: the error raised then means the caller must roll back (the request's
    session and the command line both do).
    """
    started = time.perf_counter()
    try:
        outcome = _run_import(session, project, actor, upload, options, limits, progress)
    except ServiceError:
        metrics.IMPORTS.labels("rejected").inc()
        raise
    finally:
        metrics.IMPORT_DURATION.observe(time.perf_counter() - started)
    metrics.IMPORTS.labels("dry_run" if options.dry_run else "applied").inc()
    metrics.IMPORT_ROWS.inc(outcome.counts.rows)
    return outcome


def _run_import(
    session: Session,
    project: Project,
    actor: Actor,
    upload: IO[bytes],
    options: ImportOptions,
    limits: Limits,
    progress: Callable[[int], None] | None,
) -> ImportOutcome:
    sheet = read_sheet(upload, options, limits, progress)
    answer = ImportAnswer()
    try:
        return _apply(session, project, actor, sheet, options, answer)
    except BaseException:
        answer.close()
        raise
    finally:
        sheet.spool.close()


def _apply(
    session: Session,
    project: Project,
    actor: Actor,
    sheet: ReadSheet,
    options: ImportOptions,
    answer: ImportAnswer,
) -> ImportOutcome:
    layout = sheet.layout
    items = load_project_items(session, project.id)
    may_add = may_plan(actor, project)
    checked = check_sheet(layout, sheet.rows, items, prune=options.prune, may_prune=may_add)
    errors = [*sheet.errors, *checked.errors]
    writer = None
    if not options.dry_run and not errors:
        record = ImportRecord(
            project_id=project.id,
            file_name=options.file_name[:255],
            sha256=sheet.sha256,
            sheet=layout.sheet,
            actor_organisation_id=actor.organisation_id,
            actor_label=actor.label,
        )
        writer = ImportWriter(session, project, actor, record, items, checked, sheet.rows)
    planner = Planner(sheet.rows, checked, items, layout.fields, actor.organisation_kind, may_add)
    start = 0
    told_no_sides = False
    for rows in sheet.spool.slices(sheet.groups):
        ids = [known.id for known in checked.matched[start : start + len(rows)] if known]
        plan = planner.plan(start, rows, current_columns(session, ids))
        for create in plan.creates:
            answer.created.append(create.answer())
        for change in plan.updates:
            answer.updated.append(change.answer())
        for code in plan.unchanged:
            answer.unchanged.append(code)
        for conflict in plan.conflicts:
            answer.conflicts.append(conflict)
        if plan.sideless is not None and not told_no_sides:
            told_no_sides = True
            row = plan.sideless
            errors.append(Diagnostic(layout.sheet, row.row, None, None, _NO_SIDES))
        if writer is not None and not errors:
            writer.write(plan)
        start += len(rows)
    if errors:
        raise sheet_refused(errors, len(sheet.rows), layout)
    counts = _counts(sheet, checked, answer)
    deleted = [known.code for known in checked.to_delete]
    if writer is not None:
        deleted = writer.finish(counts)
        note_load(session, project.id, counts.created + counts.updated + counts.deleted)
    return ImportOutcome(_summary(sheet, options, writer, counts, checked, deleted), answer)


def _counts(sheet: ReadSheet, checked: CheckedSheet, answer: ImportAnswer) -> ImportCounts:
    return ImportCounts(
        rows=len(sheet.rows),
        created=len(answer.created),
        updated=len(answer.updated),
        unchanged=len(answer.unchanged),
        deleted=len(checked.to_delete),
        missing=len(checked.missing),
        conflicts=len(answer.conflicts),
        skipped=len(sheet.skipped),
    )


def _summary(
    sheet: ReadSheet,
    options: ImportOptions,
    writer: ImportWriter | None,
    counts: ImportCounts,
    checked: CheckedSheet,
    deleted: list[str],
) -> ImportResult:
    layout = sheet.layout
    return ImportResult(
        id=writer.record.id if writer else None,
        dry_run=options.dry_run,
        file_name=options.file_name,
        sha256=sheet.sha256,
        sheet=layout.sheet,
        sheets=_sheets(layout),
        header_rows=layout.header_rows,
        mapping=layout.mapping,
        ignored_columns=_ignored(layout),
        counts=counts,
        # The per-row lists stream from disk: ImportOutcome.chunks writes them in.
        created=[],
        updated=[],
        unchanged=[],
        missing=[MissingItem(code=code, title=title) for code, title in checked.missing],
        deleted=deleted,
        conflicts=[],
        skipped=[_diagnostic(d) for d in sheet.skipped],
    )


def to_read(record: ImportRecord) -> ImportRead:
    return ImportRead(
        id=record.id,
        project_id=record.project_id,
        file_name=record.file_name,
        sha256=record.sha256,
        sheet=record.sheet,
        actor_label=record.actor_label,
        created_at=record.created_at,
        counts=ImportCounts(
            rows=record.rows,
            created=record.created,
            updated=record.updated,
            unchanged=record.unchanged,
            deleted=record.deleted,
            missing=record.missing,
            conflicts=record.conflicts,
            skipped=record.skipped,
        ),
    )


def list_imports(
    session: Session, project: Project, *, after_id: int, limit: int
) -> list[ImportRecord]:
    return list(
        session.scalars(
            select(ImportRecord)
            .where(ImportRecord.project_id == project.id, ImportRecord.id > after_id)
            .order_by(ImportRecord.id)
            .limit(limit)
        )
    )


def get_import(session: Session, project: Project, import_id: int) -> ImportRecord:
    record = session.get(ImportRecord, import_id)
    if record is None or record.project_id != project.id:
        raise NotFound(f"import {import_id} not found in project {project.id}")
    return record
