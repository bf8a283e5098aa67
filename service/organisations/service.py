from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from service.access import Caller, require_pmo, visible_projects
from service.errors import Conflict, NotFound, Unprocessable
from service.organisations.models import Organisation, OrgKind
from service.organisations.schemas import OrganisationCreate
from service.partners.models import Partnership
from service.partners.service import visible_partnerships
from service.projects.models import Project


def create_organisation(session: Session, data: OrganisationCreate) -> Organisation:
    if data.local_government_code and data.kind is not OrgKind.municipality:
        raise Unprocessable.for_field(
            "local_government_code", "only municipalities have a local government code"
        )
    if session.scalar(select(Organisation.id).where(Organisation.code == data.code)) is not None:
        raise Conflict(f"an organisation with code {data.code!r} already exists")
    organisation = Organisation(**data.model_dump())
    session.add(organisation)
    session.flush()
    return organisation


def _visible_organisations(caller: Caller) -> ColumnElement[bool]:
    """The caller itself, every organisation it shares a visible project with, and its partners."""
    if caller.is_pmo:
        return Organisation.id.is_not(None)
    partners = (
        select(Project.municipality_id)
        .where(visible_projects(caller))
        .union(
            select(Project.vendor_id).where(visible_projects(caller)),
            # A vendor sees the municipalities that named it, to start projects with them.
            select(Partnership.municipality_id).where(visible_partnerships(caller)),
            select(Partnership.vendor_id).where(visible_partnerships(caller)),
        )
    )
    return or_(Organisation.id == caller.organisation_id, Organisation.id.in_(partners))


def list_organisations(
    session: Session, caller: Caller, *, kind: OrgKind | None, after_id: int, limit: int
) -> list[Organisation]:
    query = (
        select(Organisation)
        .where(_visible_organisations(caller), Organisation.id > after_id)
        .order_by(Organisation.id)
        .limit(limit)
    )
    if kind is not None:
        query = query.where(Organisation.kind == kind)
    return list(session.scalars(query))


def get_organisation(session: Session, caller: Caller, organisation_id: int) -> Organisation:
    organisation = session.scalar(
        select(Organisation).where(
            Organisation.id == organisation_id, _visible_organisations(caller)
        )
    )
    if organisation is None:
        raise NotFound(f"organisation {organisation_id} not found")
    return organisation


def get_organisation_by_code(session: Session, code: str) -> Organisation:
    organisation = session.scalar(select(Organisation).where(Organisation.code == code))
    if organisation is None:
        raise NotFound(f"organisation {code!r} not found")
    return organisation


def create_organisation_as(
    session: Session, caller: Caller, data: OrganisationCreate
) -> Organisation:
    require_pmo(caller, "create organisations")
    return create_organisation(session, data)
