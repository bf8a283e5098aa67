from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, UTCDateTime, utcnow
from service.organisations.models import Organisation


class Project(Base):
    """One WBS shared by one municipality and one vendor."""

    __tablename__ = "projects"
    __table_args__ = (
        UniqueConstraint("municipality_id", "vendor_id", "name"),
        # A side's projects in id order: its list's pages come off the index without a sort.
        Index("ix_projects_municipality_id_id", "municipality_id", "id"),
        Index("ix_projects_vendor_id_id", "vendor_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    vendor_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(200))
    consortium: Mapped[str | None] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    municipality: Mapped[Organisation] = relationship(foreign_keys=[municipality_id], lazy="joined")
    vendor: Mapped[Organisation] = relationship(foreign_keys=[vendor_id], lazy="joined")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
