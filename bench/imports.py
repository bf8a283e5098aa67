"""Import benchmarks: each figure is taken in a fresh process, so its peak memory is its own.

The import runs end to end as the upload endpoint runs it (parse → diff → write, one commit)
into a new project of the benchmark database; the floors read the same bytes with openpyxl's
read-only iteration and with python-calamine, the fastest reader we know of.
"""

from __future__ import annotations

import io
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import get_context

from sqlalchemy import insert, select

from service.changes.models import ChangeSource
from service.changes.service import Actor
from service.config import Settings
from service.organisations.models import Organisation, OrgKind
from service.projects.models import Project
from service.sessions import create_db_engine, create_session_factory


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float
    detail: str = ""


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _read_openpyxl(data: bytes) -> Run:
    import openpyxl

    started = time.perf_counter()
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    cells = sum(len(row) for row in book.worksheets[0].iter_rows(values_only=True))
    book.close()
    return Run(time.perf_counter() - started, _peak_mb(), f"{cells:,} cells")


def _read_calamine(data: bytes) -> Run:
    from python_calamine import CalamineWorkbook

    started = time.perf_counter()
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    cells = sum(len(row) for row in book.get_sheet_by_index(0).iter_rows())
    return Run(time.perf_counter() - started, _peak_mb(), f"{cells:,} cells")


def new_project(url: str, label: str) -> int:
    """An empty project of a vendor in the benchmark database, for one import to fill."""
    engine = create_db_engine(Settings(database_url=url))
    now = datetime.now(UTC)
    with engine.begin() as connection:
        vendor = connection.scalar(
            select(Organisation.id).where(Organisation.kind == OrgKind.vendor).limit(1)
        )
        municipality = connection.scalar(
            select(Organisation.id).where(Organisation.kind == OrgKind.municipality).limit(1)
        )
        project_id = connection.scalar(
            insert(Project.__table__)
            .values(
                municipality_id=municipality,
                vendor_id=vendor,
                name=f"取込ベンチ {label}",
                version=1,
                created_at=now,
                updated_at=now,
            )
            .returning(Project.__table__.c.id)
        )
    engine.dispose()
    assert isinstance(project_id, int)
    return project_id


def _import(url: str, project_id: int, data: bytes) -> Run:
    from service.imports.options import ImportOptions
    from service.imports.service import run_import

    settings = Settings(database_url=url)
    engine = create_db_engine(settings)
    factory = create_session_factory(engine)
    started = time.perf_counter()
    with factory() as session:
        project = session.get(Project, project_id)
        assert project is not None
        actor = Actor(project.vendor_id, OrgKind.vendor, "bench", ChangeSource.api)
        outcome = run_import(
            session,
            project,
            actor,
            io.BytesIO(data),
            ImportOptions(file_name="wbs.xlsx"),
            settings.import_limits,
        )
        session.commit()
        # The endpoint sends the whole answer: so does the benchmark.
        answer_bytes = sum(len(chunk) for chunk in outcome.chunks())
    seconds = time.perf_counter() - started
    engine.dispose()
    counts = outcome.counts
    return Run(
        seconds,
        _peak_mb(),
        f"{counts.created:,} created, {counts.updated:,} updated, {counts.unchanged:,} "
        f"unchanged, an answer of {answer_bytes / 2**20:,.1f} MB",
    )


def _baseline() -> Run:
    """What a process that has imported the service, and done nothing else, holds."""
    import service.imports.service  # noqa: F401

    return Run(0.0, _peak_mb())


def in_fresh_process(function: object, *args: object) -> Run:
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        run = pool.submit(function, *args).result()  # type: ignore[arg-type]
    assert isinstance(run, Run)
    return run


def read_openpyxl(data: bytes) -> Run:
    return in_fresh_process(_read_openpyxl, data)


def read_calamine(data: bytes) -> Run:
    return in_fresh_process(_read_calamine, data)


def import_workbook(url: str, project_id: int, data: bytes) -> Run:
    return in_fresh_process(_import, url, project_id, data)


def baseline() -> Run:
    return in_fresh_process(_baseline)
