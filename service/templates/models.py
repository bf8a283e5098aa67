"""Plan templates, their versions and items, the projects that follow them, and replans."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, BinaryOrderString, UTCDateTime, utcnow
from service.items.models import Responsibility
from service.national import Business
from service.organisations.models import Organisation


class VersionState(enum.StrEnum):
    draft = "draft"
    published = "published"


class ReplanState(enum.StrEnum):
    previewed = "previewed"
    applied = "applied"


class Outcome(enum.StrEnum):
    """What a replan does, or did, to one following project."""

    pending = "pending"  # previewed, not yet applied
    applied = "applied"
    failed = "failed"  # rolled back whole; `reason` says why
    excluded = "excluded"  # left out of the replan by its author
    up_to_date = "up_to_date"  # already follows the replan's version


def _enum(kind: type[enum.StrEnum], name: str) -> Enum:
    return Enum(kind, name=name, native_enum=False, create_constraint=True, length=20)


class Template(Base):
    """A plan a vendor (or the PMO) starts many projects from."""

    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[Organisation] = relationship(lazy="joined")
    versions: Mapped[list[TemplateVersion]] = relationship(
        back_populates="template", order_by="TemplateVersion.number", lazy="selectin"
    )


class TemplateVersion(Base):
    """One version of a template's items: a draft while it is written, then never changed."""

    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("template_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("templates.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[VersionState] = mapped_column(_enum(VersionState, "version_state"))
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    template: Mapped[Template] = relationship(back_populates="versions", lazy="raise")


class TemplateItem(Base):
    """An item of a template version: the plan's fields, with its days relative to an anchor.

    A day is an offset in calendar days from the anchor day each project is made with, or a
    fixed day where the plan has one (a national deadline).
    """

    __tablename__ = "template_items"
    __table_args__ = (
        UniqueConstraint("version_id", "code_key"),
        Index("ix_template_items_version_sort", "version_id", "sort_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("template_versions.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    code_key: Mapped[str] = mapped_column(BinaryOrderString)
    sort_key: Mapped[str] = mapped_column(BinaryOrderString)
    parent_code: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    responsibility: Mapped[Responsibility] = mapped_column(
        _enum(Responsibility, "template_responsibility")
    )
    deliverable: Mapped[str | None] = mapped_column(Text)
    step: Mapped[str | None] = mapped_column(String(8))
    business: Mapped[Business | None] = mapped_column(
        Enum(
            Business,
            name="template_business",
            native_enum=False,
            create_constraint=True,
            length=20,
            values_callable=lambda kinds: [kind.value for kind in kinds],
        )
    )
    predecessors: Mapped[list[str]] = mapped_column(JSON)
    start_offset: Mapped[int | None] = mapped_column(Integer)
    end_offset: Mapped[int | None] = mapped_column(Integer)
    start_on: Mapped[date | None] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date)


class TemplateFollower(Base):
    """A project made from a template, and the version and anchor day it follows."""

    __tablename__ = "template_followers"
    __table_args__ = (Index("ix_template_followers_template_id", "template_id", "project_id"),)

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    template_id: Mapped[int] = mapped_column(ForeignKey("templates.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(
        ForeignKey("template_versions.id", ondelete="RESTRICT"), index=True
    )
    anchor: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    version: Mapped[TemplateVersion] = relationship(lazy="joined")


class Replan(Base):
    """A move of a template's followers to a version: previewed first, then applied."""

    __tablename__ = "replans"
    __table_args__ = (Index("ix_replans_template_id_id", "template_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("templates.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("template_versions.id", ondelete="CASCADE"))
    state: Mapped[ReplanState] = mapped_column(_enum(ReplanState, "replan_state"))
    note: Mapped[str | None] = mapped_column(String(500))
    # The edits as sent, when the replan was written as edits rather than a version.
    edits: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    actor_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    actor_label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    version: Mapped[TemplateVersion] = relationship(lazy="joined")
    projects: Mapped[list[ReplanProject]] = relationship(
        order_by="ReplanProject.project_id", lazy="selectin", cascade="all, delete-orphan"
    )


class ReplanProject(Base):
    """One following project's part of a replan: its changes, its conflicts, its outcome."""

    __tablename__ = "replan_projects"
    __table_args__ = (UniqueConstraint("replan_id", "project_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    replan_id: Mapped[int] = mapped_column(ForeignKey("replans.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    from_version: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[Outcome] = mapped_column(_enum(Outcome, "replan_outcome"))
    # [{"code", "action", "fields": [{"field", "old", "new"}]}], as previewed or as applied.
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # [{"code", "field", "template_old", "template_new", "local", "reason"}]: never applied.
    conflicts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
