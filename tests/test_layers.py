"""The import graph as docs/architecture.md draws it: no circle, HTTP only at the edge.

Read from the source, so a new import that breaks a layer fails here by name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("service", "importers")
HTTP_LIBRARIES = ("fastapi", "starlette", "uvicorn")
# The edge where requests come in: these may speak HTTP, and nothing below them may import them.
HTTP_MODULES = {
    "service.api",
    "service.auth",
    "service.cli",
    "service.deps",
    "service.health",
    "service.idempotency.middleware",
    "service.limits",
    "service.logs",
    "service.main",
    "service.pagination",
    "service.openapi",
    "service.params",
    "service.problems",
    "service.routing",
    "service.streams",
    # The `worker` and `webhook` commands: part of the command line, like service.cli.
    "service.webhooks.commands",
    # `templates` and `replans`, likewise.
    "service.templates.commands",
}


def is_http(module: str) -> bool:
    parts = module.split(".")
    return module in HTTP_MODULES or parts[-1] == "router" or parts[:2] == ["service", "web"]


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imported(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Project module → project modules it imports; project module → libraries it imports."""
    known = modules()
    edges: dict[str, set[str]] = {}
    libraries: dict[str, set[str]] = {}
    for name, path in known.items():
        names = set(imported(path))
        edges[name] = {other for other in names if other in known and other != name}
        libraries[name] = {other.split(".")[0] for other in names} - set(PACKAGES)
    return edges, libraries


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    stack = list(edges[start])
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(edges[current])
    return seen


def test_no_module_imports_itself_through_others() -> None:
    edges, _ = graph()
    circles = sorted(name for name in edges if name in reachable(edges, name))
    assert circles == []


def test_importers_know_nothing_of_the_service() -> None:
    edges, _ = graph()
    offending = {
        name: sorted(other for other in targets if other.startswith("service"))
        for name, targets in edges.items()
        if name.startswith("importers")
    }
    assert {name: found for name, found in offending.items() if found} == {}


def test_domain_modules_do_not_speak_http() -> None:
    edges, libraries = graph()
    offending = {}
    for name in edges:
        if is_http(name):
            continue
        below = reachable(edges, name) | {name}
        http = sorted(
            {other for other in below if is_http(other)}
            | {
                f"{other}→{lib}"
                for other in below
                for lib in libraries[other] & set(HTTP_LIBRARIES)
            }
        )
        if http:
            offending[name] = http
    assert offending == {}
