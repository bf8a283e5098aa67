from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, UTCDateTime, utcnow
from service.organisations.models import Organisation


class Partnership(Base):
    """A municipality's consent that a vendor may start projects with it.

    Without one, a vendor cannot make itself a party to a municipality's data: the project is
    refused exactly as for a municipality that does not exist.
    """

    __tablename__ = "partnerships"
    __table_args__ = (UniqueConstraint("municipality_id", "vendor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    vendor_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    # Who gave the consent, as a change's actor is named (organisation/token).
    granted_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    municipality: Mapped[Organisation] = relationship(foreign_keys=[municipality_id], lazy="joined")
    vendor: Mapped[Organisation] = relationship(foreign_keys=[vendor_id], lazy="joined")
