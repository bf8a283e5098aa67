"""The pages in the application: their routes, their files, and their errors as pages."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from service.errors import ServiceError
from service.web import account, home, project, upload
from service.web.browser import PageProblem, SignInRequired, sign_in_location
from service.web.render import HERE, page

STATIC_PATH = "/static"
DOCS_PATH = "/docs"
# Paths that belong to programs, never to people: their errors stay problem details.
_MACHINE_PREFIXES = ("/api/", "/healthz", "/readyz", "/metrics", "/openapi.json")


def _is_page(request: Request) -> bool:
    route = request.scope.get("route")
    if isinstance(route, APIRoute):
        return bool(getattr(route, "is_page", False))
    if request.url.path.startswith(_MACHINE_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "")


_STATUS_WORDS = {
    403: ("この操作はできません", "Not allowed"),
    404: ("ページが見つかりません", "Page not found"),
    409: ("変更が重なりました", "Conflicting change"),
    413: ("ファイルが大きすぎます", "File too large"),
    415: ("このファイルは読めません", "Unsupported file"),
    422: ("入力内容を確認してください", "Please check what you entered"),
    429: ("しばらく待ってからやり直してください", "Please wait and try again"),
}


def problem_page(request: Request, status: int, ja: str, en: str, **headers: str) -> Response:
    heading = _STATUS_WORDS.get(status, ("エラーが発生しました", "Something went wrong"))
    return page(
        request,
        "problem.html",
        person=getattr(request.state, "person", None),
        status=status,
        headers=headers,
        heading=heading,
        ja=ja,
        en=en,
    )


def _not_found(request: Request) -> Response:
    return problem_page(
        request,
        404,
        "このページはないか、見る権限がありません。",
        "This page does not exist, or you may not see it.",
    )


def install(app: FastAPI) -> None:
    """Add the pages to an application built for the API, keeping the API's answers as they are.

    The error handlers decide by route: a page's errors are pages, the API's stay problem
    details (the handlers they replace still answer for everything else).
    """
    api_handlers: dict[Any, Any] = dict(app.exception_handlers)

    async def service_error(request: Request, exc: Exception) -> Response:
        if not _is_page(request):
            return await _delegate(api_handlers, ServiceError, request, exc)
        assert isinstance(exc, ServiceError)
        if exc.status == 404:
            return _not_found(request)
        return problem_page(request, exc.status, exc.detail, exc.detail, **exc.headers)

    async def http_error(request: Request, exc: Exception) -> Response:
        if not _is_page(request):
            return await _delegate(api_handlers, StarletteHTTPException, request, exc)
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            return _not_found(request)
        return problem_page(request, exc.status_code, str(exc.detail), str(exc.detail))

    async def invalid_request(request: Request, exc: Exception) -> Response:
        if not _is_page(request):
            return await _delegate(api_handlers, RequestValidationError, request, exc)
        # A page's address or form that is not what the page makes: as if no such page.
        return _not_found(request)

    async def page_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageProblem)
        return problem_page(request, exc.status, exc.ja, exc.en)

    async def sign_in_required(request: Request, _exc: Exception) -> Response:
        return RedirectResponse(sign_in_location(request), status_code=303)

    app.add_exception_handler(ServiceError, service_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(PageProblem, page_problem)
    app.add_exception_handler(SignInRequired, sign_in_required)

    app.mount(STATIC_PATH, StaticFiles(directory=HERE / "static"), name="static")
    for router in (account.router, home.router, project.router, project.long_router, upload.router):
        app.include_router(router)

    @app.get(DOCS_PATH, include_in_schema=False)
    def docs() -> Response:
        # Served from the package: on a closed network a CDN's copy never arrives.
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="wbs-sync API",
            swagger_js_url=f"{STATIC_PATH}/vendor/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC_PATH}/vendor/swagger-ui.css",
            swagger_favicon_url=f"{STATIC_PATH}/vendor/favicon-32x32.png",
            # The "valid" badge would ask an online validator about our document.
            swagger_ui_parameters={"validatorUrl": None},
        )


async def _delegate(
    handlers: dict[Any, Any], kind: type[Exception], request: Request, exc: Exception
) -> Response:
    handler = handlers.get(kind)
    if handler is None:
        raise exc
    result = handler(request, exc)
    if not isinstance(result, Response):
        result = await result
    assert isinstance(result, Response)
    return result
