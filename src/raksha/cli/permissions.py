"""Which role may run which command: the CLI's one table, like the web console's registry.

Every command is listed. A permission of ``raksha.cases.access.PERMISSIONS`` is checked
when the command opens the store as a logged-in user; :data:`SERVICE` means the command's
service checks it (per case, with need to know: cases, operations, seizures, reports,
users, the audit log); :data:`OPEN` means any logged-in user, or no store at all (``hash``,
``demo`` with its own database, ``serve`` whose every route is checked by the web console).
A test fails when a command is missing here.
"""

from __future__ import annotations

from raksha.cases.access import require
from raksha.cases.actor import Actor

SERVICE = "checked by the service"
OPEN = "any logged-in user"

CLI_PERMISSIONS: dict[str, str] = {
    "login": OPEN,
    "logout": OPEN,
    "whoami": OPEN,
    "demo": OPEN,
    "serve": OPEN,
    "hash": OPEN,
    "match": "hits.read",
    "scan": "evidence.scan",
    "hits": "hits.read",
    "evidence show": "hits.read",
    "evidence link": SERVICE,
    "trace": SERVICE,
    "groups": "intel.read",
    "accounts": "intel.read",
    "sightings": "intel.read",
    "referrals": "intel.read",
    "referral import": "intel.write",
    "tip add": "intel.write",
    "tip list": "intel.read",
    "tip status": "intel.write",
    "watch add": "evidence.scan",
    "watch list": "evidence.scan",
    "watch run": "evidence.scan",
    "hashset import": "hashset.manage",
    "hashset list": OPEN,
    "hashset show": OPEN,
    "hashset export": "hashset.manage",
    "hashset delete": "hashset.manage",
    "index status": "hashset.manage",
    "index rebuild": "hashset.manage",
    "suspects": "network.read",
    "person show": "network.read",
    "person merge": "network.decide",
    "person split": "network.decide",
    "person undo": "network.decide",
    "person suggestions": "network.read",
    "network build": "network.read",
    "network export": "network.read",
    "network communities": "network.read",
    "network groups": "network.read",
}
for _group in ("case", "operation", "seizure", "custody", "report", "material", "user", "audit"):
    CLI_PERMISSIONS[_group] = SERVICE  # every subcommand of these groups


def permission_for(command: str) -> str | None:
    """The entry for ``command`` ("case show" falls back to its group "case")."""
    if command in CLI_PERMISSIONS:
        return CLI_PERMISSIONS[command]
    group = command.split(" ", 1)[0]
    return CLI_PERMISSIONS.get(group)


def check_command(actor: Actor, command: str) -> None:
    """Refuse the command (AccessDeniedError) when the actor's role may not run it."""
    needed = permission_for(command)
    if needed is not None and needed not in (SERVICE, OPEN):
        require(actor, needed)
