from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, lazyload

from service.access import Caller, can_see_project, may_plan, visible_projects
from service.errors import Conflict, Forbidden, NotFound, Unprocessable
from service.organisations.models import Organisation, OrgKind
from service.partners.service import has_consented
from service.projects.models import Project
from service.projects.schemas import ProjectCreate, ProjectUpdate

# The project without its parties, for callers that need only its ids: joining both
# organisations, and building them, was half of a GET item's visibility check (bench.layers).
_PROJECT_ALONE = (
    select(Project)
    .where(Project.id == bindparam("project_id"))
    .options(lazyload(Project.municipality), lazyload(Project.vendor))
)


def get_visible_project(
    session: Session, caller: Caller, project_id: int, *, parties: bool = True
) -> Project:
    """The project, or 404 alike for one that does not exist and one the caller may not see.

    `parties=False` leaves its municipality and vendor to be loaded when first read.
    """
    if parties:
        project = session.get(Project, project_id)
    else:
        project = session.scalar(_PROJECT_ALONE, {"project_id": project_id})
    if project is None or not can_see_project(caller, project):
        raise NotFound(f"project {project_id} not found")
    return project


def _party(session: Session, organisation_id: int, kind: OrgKind, field: str) -> Organisation:
    organisation = session.get(Organisation, organisation_id)
    if organisation is None or organisation.kind is not kind:
        raise NotFound.for_field(field, f"no {kind.value} with id {organisation_id}")
    return organisation


def _ensure_unique_name(
    session: Session, municipality_id: int, vendor_id: int, name: str, *, other_than: int = 0
) -> None:
    clash = session.scalar(
        select(Project.id).where(
            Project.municipality_id == municipality_id,
            Project.vendor_id == vendor_id,
            Project.name == name,
            Project.id != other_than,
        )
    )
    if clash is not None:
        raise Conflict(f"these parties already share a project named {name!r}")


def create_project(session: Session, caller: Caller, data: ProjectCreate) -> Project:
    if caller.organisation_kind is OrgKind.municipality:
        raise Forbidden("projects are created by their vendor or the PMO")
    vendor_id = data.vendor_id
    if caller.organisation_kind is OrgKind.vendor:
        if vendor_id not in (None, caller.organisation_id):
            raise Forbidden("a vendor creates projects only as their vendor")
        vendor_id = caller.organisation_id
    if vendor_id is None:
        raise Unprocessable.for_field("vendor_id", "required when the PMO creates a project")
    if caller.organisation_kind is OrgKind.vendor and not has_consented(
        session, data.municipality_id, vendor_id
    ):
        # The same answer for a municipality that does not exist and one that has not named
        # this vendor: a vendor learns nothing of municipalities it does not serve.
        raise NotFound.for_field(
            "municipality_id",
            f"no municipality with id {data.municipality_id} has named you as its vendor "
            "(a municipality names its vendors with POST /api/v1/partners)",
        )
    municipality = _party(session, data.municipality_id, OrgKind.municipality, "municipality_id")
    vendor = _party(session, vendor_id, OrgKind.vendor, "vendor_id")
    _ensure_unique_name(session, municipality.id, vendor.id, data.name)
    project = Project(
        municipality=municipality, vendor=vendor, name=data.name, consortium=data.consortium
    )
    session.add(project)
    session.flush()
    return project


def list_projects(
    session: Session,
    caller: Caller,
    *,
    municipality: str | None,
    vendor: str | None,
    consortium: str | None,
    after_id: int,
    limit: int,
) -> list[Project]:
    query = select(Project).where(visible_projects(caller), Project.id > after_id)
    if municipality is not None:
        query = query.where(Project.municipality.has(Organisation.code == municipality))
    if vendor is not None:
        query = query.where(Project.vendor.has(Organisation.code == vendor))
    if consortium is not None:
        query = query.where(Project.consortium == consortium)
    return list(session.scalars(query.order_by(Project.id).limit(limit)))


def update_project(
    session: Session, caller: Caller, project_id: int, data: ProjectUpdate
) -> Project:
    project = get_visible_project(session, caller, project_id)
    if not may_plan(caller, project):
        raise Forbidden("a project is changed by its vendor or the PMO")
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes:
        if changes["name"] is None:
            raise Unprocessable.for_field("name", "a project needs a name")
        _ensure_unique_name(
            session,
            project.municipality_id,
            project.vendor_id,
            changes["name"],
            other_than=project.id,
        )
    for field, value in changes.items():
        setattr(project, field, value)
    session.flush()
    return project
