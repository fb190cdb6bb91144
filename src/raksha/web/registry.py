"""The one list of who may open which route of the web console and the API.

Every route has a stable name (``"hashsets.list"``) and an entry here: the permission of
``raksha.cases.access.PERMISSIONS`` it needs, or :data:`PUBLIC` (no login) or
:data:`LOGGED_IN` (any role), and whether it shows case data (then every read is written
to the audit log). The security guard enforces this table for every request, so a route
cannot forget its check; :func:`check_registry` makes the app refuse to start when a route
and this table disagree, and a test walks every route with every role against it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from starlette.routing import BaseRoute

from raksha.cases.access import PERMISSIONS

#: Anyone, logged in or not (the login page, the public tip form).
PUBLIC = "public"
#: Any logged-in user, whatever the role.
LOGGED_IN = "logged-in"


@dataclass(frozen=True, slots=True)
class Access:
    """What a route needs: a permission (or PUBLIC / LOGGED_IN); whether reads are audited."""

    permission: str
    case_data: bool = False

    def __post_init__(self) -> None:
        if self.permission not in (PUBLIC, LOGGED_IN) and self.permission not in PERMISSIONS:
            raise ValueError(f"unknown permission {self.permission!r}")
        if self.case_data and self.permission == PUBLIC:
            raise ValueError("a public route cannot show case data")


#: route name -> what it needs. Add a line here with every new route.
ROUTE_ACCESS: dict[str, Access] = {
    # auth.py
    "auth.login_form": Access(PUBLIC),
    "auth.login": Access(PUBLIC),
    "auth.logout": Access(LOGGED_IN),
    # tips.py: the public form
    "tips.form": Access(PUBLIC),
    "tips.submit": Access(PUBLIC),
    # dashboard.py: counts of the cases the user may see
    "dashboard.show": Access(LOGGED_IN, case_data=True),
    # hashsets.py
    "hashsets.list": Access(LOGGED_IN),
    "hashsets.import": Access("hashset.manage"),
    "hashsets.import_status": Access("hashset.manage"),
    "hashsets.import_progress": Access("hashset.manage"),
    # audit.py
    "audit.list": Access("audit.read", case_data=True),
    "audit.verify_form": Access("audit.verify"),
    "audit.verify": Access("audit.verify"),
    # users.py
    "users.list": Access("user.manage"),
    "users.add": Access("user.manage"),
    "users.disable": Access("user.manage"),
    # api.py
    "api.docs": Access(LOGGED_IN),
    "api.openapi": Access(LOGGED_IN),
    "api.me": Access(LOGGED_IN),
    "api.dashboard": Access(LOGGED_IN, case_data=True),
    "api.hashsets": Access(LOGGED_IN),
    "api.hashset_import": Access("hashset.manage"),
    "api.tips": Access("intel.read", case_data=True),
    "api.audit": Access("audit.read", case_data=True),
    "api.audit_verify": Access("audit.verify"),
    "api.users": Access("user.manage"),
}


def api_routes(routes: Sequence[BaseRoute]) -> list[RouteContext]:
    """The routes the guard protects, with their full paths (static files are mounted)."""
    return [c for c in iter_route_contexts(routes) if isinstance(c.original_route, APIRoute)]


def check_registry(routes: Sequence[BaseRoute], registry: dict[str, Access]) -> list[str]:
    """Problems between an app's routes and the registry, in words (empty when they agree)."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for route in api_routes(routes):
        name = str(route.name)
        if name in seen:
            problems.append(f"route name {name!r} is used by {seen[name]} too")
        seen[name] = f"{sorted(route.methods or ())} {route.path}"
        if name not in registry:
            problems.append(f"route {route.name!r} ({route.path}) is not in the registry")
    for name in registry:
        if name not in seen:
            problems.append(f"registry entry {name!r} has no route")
    return problems
