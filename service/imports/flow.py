"""One upload from bytes to answer: parse, plan, and (unless a dry run) write and record."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from importers.sheet import Diagnostic, ImportRow, ParsedSheet, stream_workbook
from importers.sources import ImportFileError, Limits
from service import metrics
from service.changes.service import Actor
from service.errors import (
    NotFound,
    PayloadTooLarge,
    ServiceError,
    SheetDiagnostic,
    Unprocessable,
    UnsupportedMediaType,
)
from service.imports.answer import AnswerList, dumps
from service.imports.models import ImportRecord
from service.imports.schemas import (
    IgnoredColumn,
    ImportCounts,
    ImportPreview,
    ImportRead,
    ImportResult,
    MissingItem,
    PreviewRow,
    SheetSummary,
)
from service.imports.service import ImportPlan, SheetImport
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


def _sheets(parsed: ParsedSheet) -> list[SheetSummary]:
    return [
        SheetSummary(name=s.name, role=s.role, header_rows=s.header_rows, mapping=s.mapping)
        for s in parsed.sheets
    ]


@contextmanager
def _reading(
    data: bytes,
    options: ImportOptions,
    limits: Limits,
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[ParsedSheet, Iterator[ImportRow]]]:
    """The upload as `stream_workbook` reads it, a file's problem (also one met mid-sheet,
    such as too many rows) raised as the API's error."""
    try:
        with stream_workbook(
            data,
            options.file_name,
            sheet=options.sheet,
            mapping=options.mapping,
            header_row=options.header_row,
            limits=limits,
            progress=progress,
        ) as reading:
            yield reading
    except ImportFileError as error:
        raise _file_problem(error) from None


def preview(data: bytes, options: ImportOptions, limits: Limits) -> ImportPreview:
    with _reading(data, options, limits) as (parsed, rows):
        # Every row is read, for the problems; only the first are kept.
        parsed.rows = [row for number, row in enumerate(rows) if number < PREVIEW_ROWS]
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
            for row in parsed.rows
        ],
        errors=[_diagnostic(d) for d in parsed.errors],
        skipped=[_diagnostic(d) for d in parsed.skipped],
    )


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


_SPOOLED = ("created", "updated", "unchanged", "conflicts")


@dataclass
class ImportOutcome:
    """An import's answer: the summary in memory, the per-row lists streamed from disk."""

    summary: ImportResult  # its spooled lists are empty: `chunks` fills them in
    plan: ImportPlan

    @property
    def counts(self) -> ImportCounts:
        return self.summary.counts

    def sample(self, name: str) -> list[Any]:
        """The first entries of a per-row list, for a person reading a terminal."""
        answer: AnswerList = getattr(self.plan, name)
        return answer.sample

    def chunks(self) -> Iterator[bytes]:
        """The answer as JSON, in ImportResult's field order; closes the lists when done."""
        try:
            summary = self.summary.model_dump(mode="json")
            yield b"{"
            for position, name in enumerate(ImportResult.model_fields):
                yield (b"," if position else b"") + dumps(name) + b":"
                if name in _SPOOLED:
                    yield from getattr(self.plan, name).chunks()
                else:
                    yield dumps(summary[name])
            yield b"}"
        finally:
            self.plan.close()

    def close(self) -> None:
        self.plan.close()


def _counts(parsed: ParsedSheet, plan: ImportPlan) -> ImportCounts:
    return ImportCounts(
        rows=plan.rows,
        created=len(plan.created),
        updated=len(plan.updated),
        unchanged=len(plan.unchanged),
        deleted=len(plan.deleted),
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
) -> ImportOutcome:
    """Import an upload into the caller's transaction.

    The rows are written as they are checked, so a sheet whose problem shows late has written
    its earlier rows: the error raised then means the caller must roll back (the request's
    session and the command line both do).
    """
    started = time.perf_counter()
    try:
        outcome = _run_import(session, project, actor, data, options, limits, progress)
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
    data: bytes,
    options: ImportOptions,
    limits: Limits,
    progress: Callable[[int], None] | None,
) -> ImportOutcome:
    sha256 = hashlib.sha256(data).hexdigest()
    with _reading(data, options, limits, progress) as (parsed, rows):
        run = SheetImport(
            session, project, actor, parsed, prune=options.prune, write=not options.dry_run
        )
        run.read(rows)
    plan = run.apply(options.file_name, sha256)
    if plan.errors:
        plan.close()
        count = len(plan.errors)
        raise Unprocessable(
            f"sheet {parsed.sheet!r} has {count} problem{'s' if count > 1 else ''}; "
            "nothing was written",
            extra={"sheet_errors": [_diagnostic(d).model_dump() for d in plan.errors]},
        )
    summary = ImportResult(
        id=plan.record.id if plan.record else None,
        dry_run=options.dry_run,
        file_name=options.file_name,
        sha256=sha256,
        sheet=parsed.sheet,
        sheets=_sheets(parsed),
        header_rows=parsed.header_rows,
        mapping=parsed.mapping,
        ignored_columns=[IgnoredColumn(column=c, header=h) for c, h in parsed.ignored_columns],
        counts=_counts(parsed, plan),
        created=[],
        updated=[],
        unchanged=[],
        missing=[MissingItem(code=code, title=title) for code, title in plan.missing],
        deleted=plan.deleted,
        conflicts=[],
        skipped=[_diagnostic(d) for d in parsed.skipped],
    )
    return ImportOutcome(summary, plan)


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
