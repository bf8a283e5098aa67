"""The /api/v1 router: every feature router, behind a bearer token."""

from fastapi import APIRouter

from service.changes.router import router as changes_router
from service.exports.router import router as exports_router
from service.imports.router import router as imports_router
from service.items.router import router as items_router
from service.organisations.router import router as organisations_router
from service.partners.router import router as partners_router
from service.people.router import router as sign_in_links_router
from service.projects.router import router as projects_router
from service.reports.router import router as reports_router
from service.templates.router import long_router as templates_long_router
from service.templates.router import router as templates_router
from service.tokens.router import router as tokens_router
from service.webhooks.router import router as webhooks_router

API_PREFIX = "/api/v1"

api_router = APIRouter(prefix=API_PREFIX)
for feature_router in (
    tokens_router,
    organisations_router,
    partners_router,
    projects_router,
    items_router,
    imports_router,
    reports_router,
    changes_router,
    exports_router,
    webhooks_router,
    templates_router,
    templates_long_router,
    sign_in_links_router,
):
    api_router.include_router(feature_router)
