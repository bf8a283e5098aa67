"""Consent between a municipality and a vendor: who may start projects with whom."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, or_, select, true
from sqlalchemy.orm import Session

from service.access import Caller
from service.errors import Conflict, Forbidden, NotFound
from service.organisations.models import Organisation, OrgKind
from service.partners.models import Partnership
from service.partners.schemas import PartnershipCreate


def visible_partnerships(caller: Caller) -> ColumnElement[bool]:
    if caller.is_pmo:
        return true()
    return or_(
        Partnership.municipality_id == caller.organisation_id,
        Partnership.vendor_id == caller.organisation_id,
    )


def has_consented(session: Session, municipality_id: int, vendor_id: int) -> bool:
    """Whether this municipality has named this vendor as one it works with."""
    return bool(
        session.scalar(
            select(
                exists().where(
                    Partnership.municipality_id == municipality_id,
                    Partnership.vendor_id == vendor_id,
                )
            )
        )
    )


def _organisation(session: Session, code: str, kind: OrgKind, field: str) -> Organisation:
    found = session.scalar(
        select(Organisation).where(Organisation.code == code, Organisation.kind == kind)
    )
    if found is None:
        raise NotFound.for_field(field, f"no {kind.value} with code {code!r}")
    return found


def grant(session: Session, caller: Caller, data: PartnershipCreate) -> Partnership:
    """The municipality (or the PMO for it) consents that the vendor may start projects."""
    if caller.organisation_kind is OrgKind.vendor:
        raise Forbidden("a municipality gives its consent; a vendor cannot give it for one")
    if not caller.is_pmo and data.municipality != caller.organisation_code:
        raise Forbidden("a municipality consents only for itself")
    municipality = _organisation(session, data.municipality, OrgKind.municipality, "municipality")
    vendor = _organisation(session, data.vendor, OrgKind.vendor, "vendor")
    if has_consented(session, municipality.id, vendor.id):
        raise Conflict(f"{municipality.name} has already named {vendor.name} as its vendor")
    partnership = Partnership(municipality=municipality, vendor=vendor, granted_by=caller.label)
    session.add(partnership)
    session.flush()
    return partnership


def list_partnerships(
    session: Session, caller: Caller, *, after_id: int, limit: int
) -> list[Partnership]:
    return list(
        session.scalars(
            select(Partnership)
            .where(visible_partnerships(caller), Partnership.id > after_id)
            .order_by(Partnership.id)
            .limit(limit)
        )
    )


def withdraw(session: Session, caller: Caller, partnership_id: int) -> None:
    """The municipality (or the PMO) ends the consent; projects already started stay."""
    partnership = session.scalar(
        select(Partnership).where(Partnership.id == partnership_id, visible_partnerships(caller))
    )
    if partnership is None:
        raise NotFound(f"partnership {partnership_id} not found")
    if caller.organisation_kind is OrgKind.vendor:
        raise Forbidden("the municipality or the PMO withdraws its consent")
    session.delete(partnership)
    session.flush()
