"""The `wbs-sync` command."""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from service.config import Settings, get_settings
from service.errors import ServiceError
from service.organisations.models import OrgKind
from service.sessions import command_session
from service.templates.commands import add_commands as add_template_commands
from service.webhooks.commands import WorkerBeside, add_commands

DEFAULT_OPENAPI_PATH = Path("openapi/openapi.json")


def _serve(args: argparse.Namespace) -> int:
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Every worker inherits it; a fresh folder, so no process's old counts are added in.
        # Set before anything imports prometheus_client, which reads it once, at its import:
        # a single-worker server imported it first and answered /metrics with nothing.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="wbs-sync-metrics-")
    import uvicorn

    # Started after the folder is set, so its deliveries count in this server's /metrics.
    beside = WorkerBeside() if args.with_worker else None
    if beside is not None:
        beside.start()
    try:
        _run_uvicorn(uvicorn, args)
    finally:
        if beside is not None:
            beside.stop()
    return 0


def _run_uvicorn(uvicorn: Any, args: argparse.Namespace) -> None:
    from service.logs import LOGGING_CONFIG

    trusted = (
        args.forwarded_allow_ips
        if args.forwarded_allow_ips is not None
        else get_settings().trusted_proxies
    ).strip()
    uvicorn.run(
        "service.main:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        # Only proxies the deployment names are believed about the client's address: anyone
        # else's X-Forwarded-For would let a guesser pose as a new client at every request.
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
        timeout_graceful_shutdown=args.graceful_timeout,
        log_config=LOGGING_CONFIG,
        # Our own access line names the route template, not the raw URL with its query.
        access_log=False,
    )


def _db(args: argparse.Namespace) -> int:
    from service import migrations

    if args.action == "upgrade":
        migrations.upgrade(revision=args.revision)
    elif args.action == "downgrade":
        migrations.downgrade(revision=args.revision)
    else:
        print(migrations.head_revision())
    return 0


def _openapi(args: argparse.Namespace) -> int:
    from service.main import create_app
    from service.openapi import openapi_document

    document = openapi_document(create_app())
    path: Path = args.output
    if args.check:
        if not path.is_file() or path.read_text(encoding="utf-8") != document:
            print(f"{path} is out of date: run `wbs-sync openapi`", file=sys.stderr)
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document, encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)
    return 0


def _demo(_args: argparse.Namespace) -> int:
    from service.clock import today
    from service.demo import issue_demo_links, issue_demo_tokens, load_demo

    settings = get_settings()
    with command_session(settings) as session:
        loaded = load_demo(session, today(settings.zone))
        tokens = issue_demo_tokens(session)
        session.flush()
        links = issue_demo_links(session, _pages_url(settings), settings.web_sign_in_link_hours)
    print("demo data loaded" if loaded else "demo data already present; new demo tokens issued")
    print("Tokens for the demo organisations (earlier demo tokens are revoked):")
    for code, secret in tokens.items():
        print(f"  export WBS_TOKEN_{code.upper().replace('-', '_')}={secret}")
    print("Or sign in to the pages with a one-time link (each works once):")
    for code, url in links.items():
        print(f"  {code}: {url}")
    return 0


def _pages_url(settings: Settings) -> str:
    return settings.public_base


def _sign_in_link(args: argparse.Namespace) -> int:
    from service.people.service import issue_link, link_url
    from service.tokens.models import ApiToken

    settings = get_settings()
    with command_session(settings) as session:
        token = session.get(ApiToken, args.token)
        if token is None:
            print(
                f"error: there is no token {args.token} (see `wbs-sync token list`)",
                file=sys.stderr,
            )
            return 2
        _link, secret = issue_link(
            session, token, "cli", args.hours or settings.web_sign_in_link_hours
        )
    # Only the link on stdout, so a script can mail it: LINK=$(wbs-sync sign-in-link --token 5)
    print(link_url(_pages_url(settings), secret))
    return 0


def _org(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from service.organisations.models import Organisation
    from service.organisations.schemas import OrganisationCreate
    from service.organisations.service import create_organisation

    with command_session(get_settings()) as session:
        if args.action == "create":
            data = OrganisationCreate(
                kind=OrgKind(args.kind),
                code=args.code,
                name=args.name,
                local_government_code=args.local_government_code,
            )
            organisation = create_organisation(session, data)
            print(
                f"{organisation.id}\t{organisation.kind.value}\t{organisation.code}\t{organisation.name}"
            )
        else:
            for organisation in session.scalars(select(Organisation).order_by(Organisation.id)):
                print(
                    f"{organisation.id}\t{organisation.kind.value}\t{organisation.code}\t{organisation.name}"
                )
    return 0


def _token(args: argparse.Namespace) -> int:
    from service.organisations.service import get_organisation_by_code
    from service.tokens.service import issue_token, list_tokens, revoke_token

    with command_session(get_settings()) as session:
        if args.action == "create":
            organisation = get_organisation_by_code(session, args.org)
            _token, secret = issue_token(
                session,
                organisation,
                args.name,
                read_only=args.read_only,
                expires_in_days=args.expires_in_days,
            )
            # Only the secret on stdout, so scripts can capture it: TOKEN=$(wbs-sync token create …)
            print(secret)
        elif args.action == "list":
            print("id\torganisation\tname\tprefix\tread_only\texpires_at\trevoked_at\tlast_used_at")
            for token in list_tokens(session):
                print(
                    "\t".join(
                        str(value or "-")
                        for value in (
                            token.id,
                            token.organisation.code,
                            token.name,
                            token.prefix,
                            "yes" if token.read_only else "no",
                            token.expires_at,
                            token.revoked_at,
                            token.last_used_at,
                        )
                    )
                )
        else:
            revoke_token(session, args.id)
            print(f"token {args.id} revoked", file=sys.stderr)
    return 0


def _progress(rows: int) -> None:
    print(f"\r  read {rows:,} rows…", end="", file=sys.stderr, flush=True)


def _import(args: argparse.Namespace) -> int:
    from service.changes.models import ChangeSource
    from service.changes.service import Actor
    from service.imports.options import ImportOptions
    from service.imports.service import run_import
    from service.organisations.service import get_organisation_by_code
    from service.projects.models import Project

    settings = get_settings()
    path: Path = args.file
    if not path.is_file():
        print(f"error: {path} is not a file", file=sys.stderr)
        return 2
    with command_session(settings) as session:
        project = session.get(Project, args.project)
        if project is None:
            print(f"error: there is no project {args.project}", file=sys.stderr)
            return 2
        organisation = get_organisation_by_code(session, args.org) if args.org else project.vendor
        actor = Actor(
            organisation.id, organisation.kind, f"{organisation.code}/cli", ChangeSource.api
        )
        options = ImportOptions(
            file_name=path.name, sheet=args.sheet, dry_run=args.dry_run, prune=args.prune
        )
        try:
            with path.open("rb") as upload:
                result = run_import(
                    session, project, actor, upload, options, settings.import_limits, _progress
                )
        except ServiceError as error:
            print(file=sys.stderr)
            _print_sheet_errors(error)
            return 1
        project_label = f"{project.id} ({project.name})"
        result.close()
    # Reported once committed: a reader who closes the output early (| head) loses no import.
    print("\r", end="", file=sys.stderr)
    counts, summary = result.counts, result.summary
    mode = "dry run: nothing written" if summary.dry_run else f"import {summary.id}"
    print(f"{path.name} → project {project_label}, sheet {summary.sheet!r}: {mode}")
    print(
        f"  {counts.rows} rows: {counts.created} created, {counts.updated} updated, "
        f"{counts.unchanged} unchanged, {counts.deleted} deleted, {counts.missing} missing, "
        f"{counts.conflicts} conflicts, {counts.skipped} skipped"
    )
    for change in result.sample("updated"):
        fields = ", ".join(f"{c['field']} {c['old']!r}→{c['new']!r}" for c in change["changes"])
        print(f"  updated row {change['row']} {change['code']}: {fields}")
    for conflict in result.sample("conflicts"):
        print(
            f"  conflict row {conflict['row']} {conflict['code']} {conflict['field']}: "
            f"{conflict['reason']}"
        )
    for missing in summary.missing[:20]:
        print(f"  missing from the sheet: {missing.code} {missing.title}")
    return 0


def _print_sheet_errors(error: ServiceError) -> None:
    print(f"error: {error.detail}", file=sys.stderr)
    for problem in error.extra.get("sheet_errors", []):
        where = f"{problem['sheet']}!{problem['column'] or ''}{problem['row']}"
        value = f" [{problem['value']}]" if problem["value"] is not None else ""
        print(f"  {where}{value}: {problem['message']}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wbs-sync", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="worker processes")
    serve.add_argument(
        "--forwarded-allow-ips",
        default=None,
        help="comma-separated addresses of the proxies trusted for X-Forwarded-For/Proto "
        "(default: WBS_TRUSTED_PROXIES, empty: none); never '*' where clients reach the "
        "service without the proxy",
    )
    serve.add_argument(
        "--graceful-timeout", type=int, default=30, help="seconds to finish requests on SIGTERM"
    )
    serve.add_argument(
        "--with-worker",
        action="store_true",
        help="also run one `wbs-sync worker` (deliveries, reminders) beside the server",
    )
    serve.set_defaults(handler=_serve)

    db = commands.add_parser("db", help="database migrations")
    db_actions = db.add_subparsers(dest="action", required=True)
    upgrade = db_actions.add_parser("upgrade", help="migrate to the newest schema (or REVISION)")
    upgrade.add_argument("revision", nargs="?", default="head")
    downgrade = db_actions.add_parser("downgrade", help="migrate back to REVISION")
    downgrade.add_argument("revision")
    db_actions.add_parser("head", help="print the revision this code expects")
    db.set_defaults(handler=_db)

    openapi = commands.add_parser("openapi", help="write the OpenAPI document")
    openapi.add_argument("--output", type=Path, default=DEFAULT_OPENAPI_PATH)
    openapi.add_argument("--check", action="store_true", help="fail if the file is out of date")
    openapi.set_defaults(handler=_openapi)

    demo = commands.add_parser("demo", help="load demo data once and print demo tokens")
    demo.set_defaults(handler=_demo)

    org = commands.add_parser("org", help="organisations")
    org_actions = org.add_subparsers(dest="action", required=True)
    org_create = org_actions.add_parser("create", help="register an organisation")
    org_create.add_argument("--kind", required=True, choices=[kind.value for kind in OrgKind])
    org_create.add_argument("--code", required=True)
    org_create.add_argument("--name", required=True)
    org_create.add_argument("--local-government-code", help="6-digit code (municipalities)")
    org_actions.add_parser("list", help="list organisations")
    org.set_defaults(handler=_org)

    token = commands.add_parser("token", help="API tokens")
    token_actions = token.add_subparsers(dest="action", required=True)
    token_create = token_actions.add_parser("create", help="issue a token; prints only the token")
    token_create.add_argument("--org", required=True, help="organisation code")
    token_create.add_argument("--name", required=True, help="label, e.g. the script using it")
    token_create.add_argument("--read-only", action="store_true")
    token_create.add_argument("--expires-in-days", type=int)
    token_actions.add_parser("list", help="list tokens (never their secrets)")
    token_revoke = token_actions.add_parser("revoke", help="revoke a token by id")
    token_revoke.add_argument("id", type=int)
    token.set_defaults(handler=_token)

    link = commands.add_parser(
        "sign-in-link", help="issue a one-time link that signs a browser in as a token"
    )
    link.add_argument("--token", type=int, required=True, help="token id (wbs-sync token list)")
    link.add_argument(
        "--hours", type=int, help="hours it works (default WBS_WEB_SIGN_IN_LINK_HOURS)"
    )
    link.set_defaults(handler=_sign_in_link)

    imports = commands.add_parser("import", help="import a WBS workbook or CSV into a project")
    imports.add_argument("file", type=Path)
    imports.add_argument("--project", type=int, required=True, help="project id")
    imports.add_argument("--sheet", help="the sheet to import when several look like a WBS")
    imports.add_argument("--dry-run", action="store_true", help="show the diff, write nothing")
    imports.add_argument("--prune", action="store_true", help="delete items the sheet lacks")
    imports.add_argument("--org", help="import as this organisation (default: the vendor)")
    imports.set_defaults(handler=_import)
    add_commands(commands)
    add_template_commands(commands)
    return parser


def _settings_problems(error: ValidationError) -> str:
    lines = ["the configuration is not valid:"]
    for problem in error.errors():
        if not problem["loc"]:  # a rule across settings: its message names them
            lines.append(f"  {problem['msg'].removeprefix('Value error, ')}")
            continue
        name = "WBS_" + "_".join(str(part) for part in problem["loc"]).upper()
        # The value a secret was set to is not repeated: a mistyped key is still mostly a key.
        secret = any(word in name for word in ("SECRET", "PASSWORD"))
        given = "" if secret else f" (got {problem.get('input')!r})"
        lines.append(f"  {name}: {problem['msg']}{given}")
    lines.append("every setting is described in docs/configuration.md")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    # What the command prints (tokens, links, progress) comes out line by line even into a pipe.
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    args = build_parser().parse_args(argv)
    try:
        # Checked before anything starts, so a bad value is one clear line, not a traceback.
        get_settings()
    except ValidationError as error:
        print(_settings_problems(error), file=sys.stderr)
        return 2
    try:
        return int(args.handler(args))
    except ServiceError as error:
        print(f"error: {error.detail}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
