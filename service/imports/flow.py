"""One upload from bytes to answer: parse, plan, and (unless a dry run) write and record."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from importers.sheet import Diagnostic, ParsedSheet, parse_workbook
from importers.sources import ImportFileError, Limits
from service import metrics
from service.changes.models import ChangeSource
from service.changes.service import Actor
from service.errors import (
    NotFound,
    PayloadTooLarge,
    ServiceError,
    SheetDiagnostic,
    Unprocessable,
    UnsupportedMediaType,
)
from service.imports.models import ImportRecord
from service.imports.schemas import (
    FieldChangeRead,
    IgnoredColumn,
    ImportConflict,
    ImportCounts,
    ImportPreview,
    ImportRead,
    ImportResult,
    MissingItem,
    PreviewRow,
    RowChange,
    SheetSummary,
)
from service.imports.service import ImportPlan, RowResult, apply_plan, plan_import, record_import
from service.projects.models import Project

PREVIEW_ROWS = 20


@dataclass(frozen=True)
class ImportOptions:
    file_name: str
    sheet: str | None = None
    mapping: dict[str, str] | None = None
    header_row: int | None = None
    dry_run: bool = False
    prune: bool = False


def _diagnostic(d: Diagnostic) -> SheetDiagnostic:
    return SheetDiagnostic(
        sheet=d.sheet, row=d.row, column=d.column, value=d.value, message=d.message
    )


def _file_problem(error: ImportFileError) -> ServiceError:
    kind: type[ServiceError] = {413: PayloadTooLarge, 415: UnsupportedMediaType}.get(
        error.status, Unprocessable
    )
    return kind(error.message, extra={k: v for k, v in error.details.items() if k == "candidates"})


def parse(
    data: bytes,
    options: ImportOptions,
    limits: Limits,
    progress: Callable[[int], None] | None = None,
) -> ParsedSheet:
    try:
        return parse_workbook(
            data,
            options.file_name,
            sheet=options.sheet,
            mapping=options.mapping,
            header_row=options.header_row,
            limits=limits,
            progress=progress,
        )
    except ImportFileError as error:
        raise _file_problem(error) from None


def _sheets(parsed: ParsedSheet) -> list[SheetSummary]:
    return [
        SheetSummary(name=s.name, role=s.role, header_rows=s.header_rows, mapping=s.mapping)
        for s in parsed.sheets
    ]


def preview(data: bytes, options: ImportOptions, limits: Limits) -> ImportPreview:
    parsed = parse(data, options, limits)
    return ImportPreview(
        sheet=parsed.sheet,
        sheets=_sheets(parsed),
        header_rows=parsed.header_rows,
        mapping=parsed.mapping,
        ignored_columns=[IgnoredColumn(column=c, header=h) for c, h in parsed.ignored_columns],
        rows=[
            PreviewRow(
                row=row.row,
                code=row.code,
                parent_code=row.parent_code,
                values={k: _jsonable(v) for k, v in row.values.items()},
            )
            for row in parsed.rows[:PREVIEW_ROWS]
        ],
        errors=[_diagnostic(d) for d in parsed.errors],
        skipped=[_diagnostic(d) for d in parsed.skipped],
    )


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _changes(results: list[RowResult]) -> list[RowChange]:
    """The plan's row results as the answer shows them, emptying the plan's lists as it goes.

    A first import of 100,000 rows answers with 1.5 million field changes: validating each
    again, and holding the plan's copy beside the answer's, made this the import's peak.
    The values come from our own parse and diff, so they are constructed, not validated.
    """
    answer = []
    for result in results:
        changes = [
            FieldChangeRead.model_construct(field=c.field, old=c.old, new=c.new)
            for c in result.changes
        ]
        result.changes = []
        answer.append(RowChange.model_construct(row=result.row, code=result.code, changes=changes))
    return answer


def _counts(parsed: ParsedSheet, plan: ImportPlan) -> ImportCounts:
    return ImportCounts(
        rows=len(parsed.rows),
        created=len(plan.created),
        updated=len(plan.updated),
        unchanged=len(plan.unchanged),
        deleted=len(plan.deleted) if plan.deleted else len(plan.prune),
        missing=len(plan.missing),
        conflicts=len(plan.conflicts),
        skipped=len(parsed.skipped),
    )


def run_import(
    session: Session,
    project: Project,
    actor: Actor,
    data: bytes,
    options: ImportOptions,
    limits: Limits,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    started = time.perf_counter()
    try:
        result = _run_import(session, project, actor, data, options, limits, progress)
    except ServiceError:
        metrics.IMPORTS.labels("rejected").inc()
        raise
    finally:
        metrics.IMPORT_DURATION.observe(time.perf_counter() - started)
    metrics.IMPORTS.labels("dry_run" if options.dry_run else "applied").inc()
    metrics.IMPORT_ROWS.inc(result.counts.rows)
    return result


def _run_import(
    session: Session,
    project: Project,
    actor: Actor,
    data: bytes,
    options: ImportOptions,
    limits: Limits,
    progress: Callable[[int], None] | None,
) -> ImportResult:
    parsed = parse(data, options, limits, progress)
    plan = plan_import(session, project, actor, parsed, prune=options.prune)
    if plan.errors:
        count = len(plan.errors)
        raise Unprocessable(
            f"sheet {parsed.sheet!r} has {count} problem{'s' if count > 1 else ''}; "
            "nothing was written",
            extra={"sheet_errors": [_diagnostic(d).model_dump() for d in plan.errors]},
        )
    record = None
    if not options.dry_run:
        record = record_import(session, project, actor, parsed, plan, options.file_name, data)
        import_actor = Actor(
            actor.organisation_id,
            actor.organisation_kind,
            actor.label,
            ChangeSource.import_,
            str(record.id),
        )
        apply_plan(session, project, import_actor, plan)
    return ImportResult(
        id=record.id if record else None,
        dry_run=options.dry_run,
        file_name=options.file_name,
        sha256=hashlib.sha256(data).hexdigest(),
        sheet=parsed.sheet,
        sheets=_sheets(parsed),
        header_rows=parsed.header_rows,
        mapping=parsed.mapping,
        ignored_columns=[IgnoredColumn(column=c, header=h) for c, h in parsed.ignored_columns],
        counts=_counts(parsed, plan),
        created=_changes(plan.created),
        updated=_changes(plan.updated),
        unchanged=[r.code for r in plan.unchanged],
        missing=[MissingItem(code=code, title=title) for code, title in plan.missing],
        deleted=plan.deleted if plan.deleted else [item.code for item in plan.prune],
        conflicts=[
            ImportConflict(
                row=c.row,
                code=c.code,
                field=c.field,
                current=c.current,
                sheet=c.sheet,
                reason=c.reason,
            )
            for c in plan.conflicts
        ],
        skipped=[_diagnostic(d) for d in parsed.skipped],
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
