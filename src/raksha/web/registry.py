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
    # evidence.py: evidence per case, scans started from the browser (need to know in the
    # routes; the progress fragment, polled every second, shows only counts: not audited)
    "evidence.list": Access("hits.read", case_data=True),
    "evidence.show": Access("hits.read", case_data=True),
    "scans.start": Access("evidence.scan"),
    "scans.status": Access("evidence.scan", case_data=True),
    "scans.progress": Access("evidence.scan"),
    # review.py: the review queue, decisions, previews (reveals are audited as such)
    "review.queue": Access("hits.read", case_data=True),
    "review.decide": Access("hits.review"),
    "review.preview": Access("hits.read", case_data=True),
    "review.reveal": Access("hits.review"),
    # cases.py: need to know by the guard (case_id) and the records service
    "cases.list": Access("case.read", case_data=True),
    "cases.new": Access("case.create"),
    "cases.create": Access("case.create"),
    "cases.show": Access("case.read", case_data=True),
    "cases.edit": Access("case.write", case_data=True),
    "cases.update": Access("case.write"),
    "cases.status": Access("case.write"),
    "cases.accused_add": Access("case.write"),
    "cases.assign": Access("case.assign"),
    # operations.py: the board polls its live part, audited by operation_board itself
    # (operation.show), so without a second web.read entry every few seconds
    "operations.list": Access("operation.read", case_data=True),
    "operations.create": Access("operation.plan"),
    "operations.board": Access("operation.read", case_data=True),
    "operations.board_live": Access("operation.read"),
    "operations.target_add": Access("operation.plan"),
    "operations.target_status": Access("operation.update"),
    "operations.target_outcome": Access("operation.update"),
    # seizures.py: the services check the seizure's case
    "seizures.list": Access("case.read", case_data=True),
    "seizures.show": Access("case.read", case_data=True),
    "seizures.add": Access("seizure.write"),
    "seizures.custody_add": Access("custody.write"),
    # reports.py: a download is sent only when the registry says it is unchanged
    "reports.list": Access("case.read", case_data=True),
    "reports.generate": Access("report.generate"),
    "reports.generate_operation": Access("report.generate"),
    "reports.download": Access("case.read", case_data=True),
    # network.py: suspects, people, the graph view and its JSON (reads audited)
    "network.suspects": Access("network.read", case_data=True),
    "network.person": Access("network.read", case_data=True),
    "network.merge": Access("network.decide"),
    "network.split": Access("network.decide"),
    "network.view": Access("network.read"),
    "network.person_graph": Access("network.read", case_data=True),
    "network.community_graph": Access("network.read", case_data=True),
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
