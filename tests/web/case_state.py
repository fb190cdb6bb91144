"""State for the case, operation, seizure, report and network pages, built with the
services themselves (records, operations, seizures, custody, reports), and the walk
samples ``test_security.SAMPLES`` uses for those routes.

Every case these helpers make is visible to each test user (``People``): supervisors
and auditors see every case, and the analyst, investigator and admin are assigned, so a
walk with every role finds exactly the access the registry states.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any, Protocol

from fastapi import FastAPI
from sqlalchemy import insert

from raksha.cases import custody, operations, records, seizures
from raksha.cases.actor import Actor
from raksha.reports import service as reports
from raksha.store.chat_models import accounts_table, chat_members_table, chats_table
from raksha.store.db import Store
from raksha.store.network_models import people_table, person_accounts_table
from tests.web.conftest import People

T0 = datetime(2026, 3, 1, 6, 30, tzinfo=UTC)
_serial = itertools.count(1)


def supervisor(app: FastAPI, people: People) -> Actor:
    return people.actor(app, "supervisor")


def new_case(
    app: FastAPI, people: People, name: str | None = None, *, assign_all: bool = True
) -> int:
    """A case registered by the supervisor; the analyst, investigator and admin assigned."""
    boss = supervisor(app, people)
    store: Store = app.state.store
    case = records.create_case(
        store,
        boss,
        name or f"FIR {next(_serial)}/2026 Cyber PS",
        fir_number=None,
        police_station="Cyber PS Kochi",
        district="Ernakulam",
        sections=["IT Act s.67B"],
    )
    if assign_all:
        for role in ("analyst", "investigator", "admin"):
            records.assign(store, boss, case["id"], people.usernames[role])
    return int(case["id"])


def new_person(app: FastAPI, label: str, accounts: int = 1) -> tuple[int, list[int]]:
    """A person of the network with ``accounts`` Telegram accounts; (person, accounts)."""
    store: Store = app.state.store
    with store.engine.begin() as conn:
        pid = int(
            conn.execute(
                insert(people_table).values(label=label, created_at=T0)
            ).inserted_primary_key[0]  # type: ignore[index]
        )
        made = []
        for _ in range(accounts):
            aid = int(
                conn.execute(
                    insert(accounts_table).values(
                        platform="telegram",
                        id_kind="user",
                        external_id=f"user9{next(_serial):06d}",
                        scope="",
                        display_name=label,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            )
            conn.execute(
                insert(person_accounts_table).values(person_id=pid, account_id=aid, basis="own")
            )
            made.append(aid)
    return pid, made


def new_group(app: FastAPI, title: str, account_ids: list[int]) -> int:
    """A Telegram group whose members are these accounts (a community of its own)."""
    store: Store = app.state.store
    with store.engine.begin() as conn:
        chat_id = int(
            conn.execute(
                insert(chats_table).values(
                    platform="telegram",
                    chat_key=f"walk-{next(_serial)}",
                    title=title,
                    kind="private_supergroup",
                    member_count=len(account_ids),
                    first_ingested=T0,
                    last_ingested=datetime.now(UTC),
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        )
        for aid in account_ids:
            conn.execute(
                insert(chat_members_table).values(
                    chat_id=chat_id, account_id=aid, role="member", first_seen=T0
                )
            )
    return chat_id


def new_operation(app: FastAPI, people: People, name: str | None = None) -> int:
    op = operations.create_operation(
        app.state.store, supervisor(app, people), name or f"Op Walk {next(_serial)}", T0
    )
    return int(op["id"])


def new_target(
    app: FastAPI,
    people: People,
    operation_id: int,
    *,
    district: str = "Ernakulam",
    status: str | None = None,
    person_id: int | None = None,
) -> int:
    boss = supervisor(app, people)
    target = operations.add_target(
        app.state.store,
        boss,
        operation_id,
        label=f"House {next(_serial)}, Ward 9",
        district=district,
        person_id=person_id,
        team_lead="SI Meera",
    )
    if status is not None:
        operations.set_target_status(app.state.store, boss, int(target["id"]), status)
    return int(target["id"])


def new_seizure(app: FastAPI, people: People, case_id: int, **options: Any) -> int:
    seizure = seizures.add_seizure(
        app.state.store,
        supervisor(app, people),
        case_id,
        options.pop("kind", "phone"),
        options.pop("seal", f"CCPS/26/PH-{next(_serial):03d}"),
        seized_at=options.pop("seized_at", T0),
        **options,
    )
    return int(seizure["id"])


def add_custody(app: FastAPI, people: People, seizure_id: int, action: str, **kw: Any) -> None:
    custody.add_event(app.state.store, supervisor(app, people), seizure_id, action, **kw)


def case_report(app: FastAPI, people: People, case_id: int, formats: tuple[str, ...]) -> Any:
    """Generate the case report into the case's folder; returns the registered files."""
    store: Store = app.state.store
    folder = reports.case_report_dir(app.state.settings, reports.case_name(store, case_id))
    _, files = reports.generate_case_report(
        store, supervisor(app, people), case_id, folder, formats
    )
    return files


# -- the walk --------------------------------------------------------------------------


class Walk(Protocol):
    """What ``test_security.WalkContext`` offers the samples."""

    app: FastAPI
    people: People
    counter: itertools.count[int]


def _cached(c: Walk, key: str, make: Any) -> Any:
    """One object per walk (kept on the app's state), made the first time it is asked."""
    found = getattr(c.app.state, f"walk_{key}", None)
    if found is None:
        found = make()
        setattr(c.app.state, f"walk_{key}", found)
    return found


def walk_case(c: Walk) -> int:
    return int(_cached(c, "case", lambda: new_case(c.app, c.people, "Walk case")))


def walk_operation(c: Walk) -> int:
    return int(_cached(c, "operation", lambda: new_operation(c.app, c.people, "Op Walk")))


def walk_seizure(c: Walk) -> int:
    return int(_cached(c, "seizure", lambda: new_seizure(c.app, c.people, walk_case(c))))


def walk_report(c: Walk) -> int:
    make = lambda: case_report(c.app, c.people, walk_case(c), ("html",))[0].id  # noqa: E731
    return int(_cached(c, "report", make))


def walk_person(c: Walk) -> int:
    return int(_cached(c, "person", lambda: new_person(c.app, "Walk Person")[0]))


def walk_community(c: Walk) -> int:
    def make() -> int:
        _, first = new_person(c.app, "Walk Member A")
        _, second = new_person(c.app, "Walk Member B")
        new_group(c.app, "Walk Group", first + second)
        return 0  # the largest community is number 0

    return int(_cached(c, "community", make))


def fresh_case(c: Walk) -> str:
    return str(new_case(c.app, c.people))


def fresh_target(c: Walk, status: str | None = None) -> str:
    return str(new_target(c.app, c.people, walk_operation(c), status=status))


def split_person(c: Walk) -> tuple[str, str]:
    """A fresh person with two accounts: (person, the account to split off)."""
    person, accounts = new_person(c.app, f"Walk Split {next(c.counter)}", accounts=2)
    return str(person), str(accounts[1])


def _status_sample(c: Walk) -> dict[str, Any]:
    return {
        "path": {"target_id": fresh_target(c)},
        "data": {"status": "in progress", "operation_id": str(walk_operation(c))},
    }


def _split_sample(c: Walk) -> dict[str, Any]:
    person, account = split_person(c)
    return {"path": {"person_id": person}, "data": {"accounts": account, "reason": "walk"}}


def _merge_sample(c: Walk) -> dict[str, Any]:
    person = new_person(c.app, f"Walk Keep {next(c.counter)}")[0]
    other = new_person(c.app, f"Walk Merge {next(c.counter)}")[0]
    return {"path": {"person_id": str(person)}, "data": {"other_id": str(other), "reason": "walk"}}


#: route name -> the path parameters and form fields a walk request sends (what
#: ``test_security.Sample`` takes); each call makes what it changes afresh.
CASE_SAMPLES: dict[str, Any] = {
    "cases.create": lambda c: {"data": {"name": f"Walk new case {next(c.counter)}"}},
    "cases.show": lambda c: {"path": {"case_id": str(walk_case(c))}},
    "cases.edit": lambda c: {"path": {"case_id": str(walk_case(c))}},
    "cases.update": lambda c: {
        "path": {"case_id": str(walk_case(c))},
        "data": {"name": "Walk case", "description": f"edited by the walk {next(c.counter)}"},
    },
    "cases.status": lambda c: {"path": {"case_id": fresh_case(c)}, "data": {"status": "arrested"}},
    "cases.accused_add": lambda c: {
        "path": {"case_id": str(walk_case(c))},
        "data": {"person_id": str(new_person(c.app, f"Walk Accused {next(c.counter)}")[0])},
    },
    "cases.assign": lambda c: {
        "path": {"case_id": str(new_case(c.app, c.people, assign_all=False))},
        "data": {"username": c.people.usernames["analyst"]},
    },
    "operations.create": lambda c: {
        "data": {"name": f"Op Walk New {next(c.counter)}", "starts_at": "2026-03-01T06:00"}
    },
    "operations.board": lambda c: {"path": {"operation_id": str(walk_operation(c))}},
    "operations.board_live": lambda c: {"path": {"operation_id": str(walk_operation(c))}},
    "operations.target_add": lambda c: {
        "path": {"operation_id": str(walk_operation(c))},
        "data": {"label": f"Shop {next(c.counter)}", "district": "Thrissur"},
    },
    "operations.target_status": _status_sample,
    "operations.target_outcome": lambda c: {
        "path": {"target_id": fresh_target(c, "done")},
        "data": {"arrests": "1", "notes": "walk"},
    },
    "seizures.show": lambda c: {"path": {"seizure_id": str(walk_seizure(c))}},
    "seizures.add": lambda c: {
        "path": {"case_id": str(walk_case(c))},
        "data": {"kind": "phone", "seal_label": f"WALK/{next(c.counter)}"},
    },
    "seizures.custody_add": lambda c: {
        "path": {"seizure_id": str(walk_seizure(c))},
        "data": {"action": "transferred", "by_whom": "SI Walk", "to_whom": "HC Lab"},
    },
    "reports.generate": lambda c: {
        "path": {"case_id": str(walk_case(c))},
        "data": {"what": "case", "format": "html"},
    },
    "reports.generate_operation": lambda c: {
        "path": {"operation_id": str(walk_operation(c))},
        "data": {"format": "csv"},
    },
    "reports.download": lambda c: {"path": {"report_id": str(walk_report(c))}},
    "network.person": lambda c: {"path": {"person_id": str(walk_person(c))}},
    "network.merge": _merge_sample,
    "network.split": _split_sample,
    "network.person_graph": lambda c: {"path": {"person_id": str(walk_person(c))}},
    "network.community_graph": lambda c: {"path": {"community_id": str(walk_community(c))}},
}
