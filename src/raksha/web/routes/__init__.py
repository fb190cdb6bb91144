"""The console's routers, one per area, in the order the app includes them.

An explicit list (not discovery by import): ``raksha.web.app`` includes exactly these,
and every route in them needs an entry in ``raksha.web.registry.ROUTE_ACCESS``.
"""

from __future__ import annotations

from fastapi import APIRouter

from raksha.web.routes import (
    api,
    audit,
    auth,
    cases,
    dashboard,
    evidence,
    hashsets,
    network,
    operations,
    reports,
    review,
    seizures,
    tips,
    users,
)

ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    tips.router,
    dashboard.router,
    hashsets.router,
    evidence.router,
    review.router,
    cases.router,
    operations.router,
    seizures.router,
    reports.router,
    network.router,
    audit.router,
    users.router,
    api.router,
)
