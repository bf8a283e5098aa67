"""`wbs-sync templates …` and `wbs-sync replans …`: the same services as the API, run as an
organisation named on the command line (by default the template's owner)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from service.config import get_settings
from service.errors import NotFound, Unprocessable
from service.sessions import command_session, commit, create_db_engine, create_session_factory
from service.webhooks.commands import cli_caller

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from service.access import Caller
    from service.templates.models import Template
    from service.templates.schemas import Shift

# The services, their models and schemas are imported when a command runs: every other
# `wbs-sync` command would start slower with them loaded here.


def _owner_caller(session: Session, template_id: int, org: str | None) -> tuple[Caller, Template]:
    from service.organisations.models import Organisation
    from service.templates import service
    from service.templates.models import Template

    template = session.get(Template, template_id)
    if template is None:
        raise NotFound(f"there is no template {template_id} (see `wbs-sync templates list`)")
    owner = session.get_one(Organisation, template.owner_id)
    caller = cli_caller(session, org or owner.code)
    return caller, service.get_visible_template(session, caller, template_id)


def _templates(args: argparse.Namespace) -> int:
    from service.templates import service
    from service.templates.schemas import FromProject, TemplateCreate

    settings = get_settings()
    with command_session(settings) as session:
        if args.action == "list":
            print("id\towner\tname\tversions")
            for template in service.list_templates(
                session, cli_caller(session, args.org), after_id=0, limit=10_000
            ):
                versions = ", ".join(f"{v.number} {v.state.value}" for v in template.versions)
                print(f"{template.id}\t{template.owner.code}\t{template.name}\t{versions}")
            return 0
        if args.action == "create":
            caller = cli_caller(session, args.org)
            if args.workbook is not None:
                template = _from_workbook(session, caller, args)
            else:
                template = service.create_template(
                    session,
                    caller,
                    TemplateCreate(
                        name=args.name,
                        from_project=FromProject(project_id=args.project, anchor=args.anchor),
                    ),
                )
            if args.publish:
                service.publish(session, caller, template, 1)
            print(template.id)
            return 0
        caller, template = _owner_caller(session, args.template, args.org)
        version = service.publish(session, caller, template, args.version)
        print(f"template {template.id} version {version.number} published", file=sys.stderr)
    return 0


def _from_workbook(session: Session, caller: Caller, args: argparse.Namespace) -> Template:
    from service.imports.options import ImportOptions
    from service.templates import service
    from service.templates.workbook import items_of_workbook

    path: Path = args.workbook
    if not path.is_file():
        raise ValueError(f"{path} is not a file")
    options = ImportOptions(file_name=path.name, sheet=args.sheet)
    with path.open("rb") as upload:
        items = items_of_workbook(upload, options, get_settings().import_limits, args.anchor)
    return service.create_from_items(session, caller, args.name or path.stem, items, path.name)


def _shift(text: str) -> Shift:
    from service.templates.schemas import Shift

    prefix, _, days = text.rpartition("=")
    try:
        return Shift(prefix=prefix, days=int(days))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write PREFIX=DAYS, e.g. ⑬=42") from None


@contextmanager
def _per_project_session() -> Iterator[Session]:
    """A session whose transactions the apply ends itself, one per project."""
    engine = create_db_engine(get_settings())
    try:
        with create_session_factory(engine)() as session:
            yield session
            commit(session)
    finally:
        engine.dispose()


def _bar(done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    end = "\n" if done == total else ""
    print(
        f"\r  [{'#' * filled}{'.' * (width - filled)}] {done}/{total} projects",
        end=end,
        file=sys.stderr,
        flush=True,
    )


def _replans(args: argparse.Namespace) -> int:
    from service.templates import replans
    from service.templates.schemas import ReplanCreate, ReplanEdits

    with _per_project_session() as session:
        caller, template = _owner_caller(session, args.template, args.org)
        if args.action == "preview":
            if (args.to_version is None) == (not args.shift):
                raise Unprocessable("give --to-version or --shift, one of them")
            target = (
                {"edits": ReplanEdits(shift=args.shift)}
                if args.shift
                else {"to_version": args.to_version}
            )
            data = ReplanCreate.model_validate(
                {"note": args.note, "exclude": args.exclude, **target}
            )
            replan = replans.preview_replan(session, caller, template, data)
        else:
            replan = replans.apply_replan(
                session, caller, template, args.replan, finish=commit, progress=_bar
            )
        _report(session, replan.id, template)
    return 0


def _report(session: Session, replan_id: int, template: Template) -> None:
    from service.templates import replans
    from service.templates.shown import replan_read

    shown = replan_read(session, replans.get_replan(session, template, replan_id))
    counts = shown.counts
    print(f"replan {shown.id} of template {template.id} to version {shown.version}: ", end="")
    print(shown.state.value)
    print(
        f"  {counts.projects} projects: {counts.changes} item changes, {counts.conflicts} "
        f"conflicts; {counts.applied} applied, {counts.failed} failed, {counts.excluded} "
        f"excluded, {counts.up_to_date} up to date"
    )
    for part in shown.projects:
        print(
            f"  project {part.project_id} {part.municipality.name} {part.project_name}: "
            f"{part.outcome.value}, {len(part.changes)} changes, {len(part.conflicts)} conflicts"
            + (f": {part.reason}" if part.reason else "")
        )
        for conflict in part.conflicts:
            print(
                f"    conflict {conflict.code} {conflict.field or '(item)'}: "
                f"template {conflict.template_old!r} → {conflict.template_new!r}, "
                f"project {conflict.local!r}: {conflict.reason}"
            )


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    templates = commands.add_parser("templates", help="plan templates")
    actions = templates.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="list an organisation's templates")
    listing.add_argument("--org", required=True, help="organisation code")
    create = actions.add_parser("create", help="a template from a workbook or a project")
    create.add_argument("--org", required=True, help="the vendor's (or the PMO's) code")
    create.add_argument("--name", help="defaults to the workbook's name")
    source = create.add_mutually_exclusive_group(required=True)
    source.add_argument("--workbook", type=Path, help=".xlsx, .xlsm or CSV")
    source.add_argument("--project", type=int, help="a project id")
    create.add_argument("--sheet", help="the sheet, when several look like a WBS")
    create.add_argument("--anchor", type=date.fromisoformat, help="YYYY-MM-DD days count from")
    create.add_argument("--publish", action="store_true", help="publish version 1 at once")
    publish = actions.add_parser("publish", help="publish a draft version")
    publish.add_argument("--template", type=int, required=True)
    publish.add_argument("--version", type=int, required=True)
    publish.add_argument("--org", help="act as this organisation (default: the owner)")
    templates.set_defaults(handler=_templates)

    replan = commands.add_parser("replans", help="replans across a template's projects")
    replan_actions = replan.add_subparsers(dest="action", required=True)
    preview = replan_actions.add_parser("preview", help="what a replan would do; prints it")
    preview.add_argument("--template", type=int, required=True)
    preview.add_argument("--to-version", type=int, help="a version already written")
    preview.add_argument(
        "--shift", type=_shift, action="append", default=[], help="PREFIX=DAYS (calendar days)"
    )
    preview.add_argument("--exclude", type=int, action="append", default=[], help="project id")
    preview.add_argument("--note")
    preview.add_argument("--org", help="act as this organisation (default: the owner)")
    apply = replan_actions.add_parser("apply", help="apply a previewed replan, per project")
    apply.add_argument("--template", type=int, required=True)
    apply.add_argument("--replan", type=int, required=True)
    apply.add_argument("--org", help="act as this organisation (default: the owner)")
    replan.set_defaults(handler=_replans)
