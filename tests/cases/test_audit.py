"""The audit log's hash chain, on both databases: an intact log verifies; an edited, an
inserted, a deleted middle and a deleted last entry are each found; the triggers refuse
UPDATE and DELETE; two writers at once never fork the chain.

To tamper, a test drops the append-only triggers first, which is what someone with the
database owner's rights would do, and puts them back afterwards (the PostgreSQL test
database is shared by the whole run).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from raksha.cases import audit
from raksha.cases.actor import Actor
from raksha.store.case_models import audit_log_table
from raksha.store.db import Store
from raksha.store.models import utcnow

ANALYST = Actor(username="meera", role="analyst", user_id=7)
T = audit_log_table


def drop_append_only_triggers(store: Store) -> None:
    with store.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))


def restore_append_only_triggers(store: Store) -> None:
    """The triggers exactly as migration 0008 creates them."""
    drop_append_only_triggers(store)
    with store.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(
                text(
                    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
                    "FOR EACH ROW EXECUTE FUNCTION raksha_audit_append_only()"
                )
            )
        else:
            for verb in ("UPDATE", "DELETE"):
                conn.execute(
                    text(
                        f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
                    )
                )


@pytest.fixture
def tamperable(store: Store) -> Iterator[Store]:
    """The store with the append-only triggers dropped for the length of one test."""
    drop_append_only_triggers(store)
    try:
        yield store
    finally:
        restore_append_only_triggers(store)


def append(store: Store, count: int, actor: Actor = ANALYST) -> None:
    for i in range(count):
        with store.engine.begin() as conn:
            audit.record(
                conn,
                actor,
                "hits.read",
                case_id=1,
                object_kind="scan",
                object_id=i,
                details={"i": i},
            )


def problems(store: Store, head: str | None = None) -> list[tuple[int, str]]:
    with store.engine.connect() as conn:
        report = audit.verify(conn, expected_head=head)
    return [(p["seq"], p["problem"]) for p in report.problems]


def head_text(store: Store) -> str:
    with store.engine.connect() as conn:
        seq, digest = audit.head(conn)
    return f"{seq}:{digest}"


def test_an_intact_log_verifies(store: Store) -> None:
    with store.engine.connect() as conn:
        empty = audit.verify(conn)
    assert empty.ok and empty.entries == 0 and empty.head_seq == 0
    append(store, 5)
    with store.engine.connect() as conn:
        report = audit.verify(conn, expected_head=head_text(store))
        assert audit.head(conn)[0] == 5
    assert report.ok and report.entries == 5
    assert report.as_dict()["head"] == head_text(store)
    # An earlier head stays valid as the log grows.
    earlier = head_text(store)
    append(store, 2)
    assert problems(store, earlier) == []


def test_the_triggers_refuse_update_and_delete(store: Store) -> None:
    append(store, 2)
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(update(T).where(T.c.seq == 1).values(actor="someone else"))
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(delete(T).where(T.c.seq == 2))
    with store.engine.connect() as conn:
        rows = conn.execute(select(T.c.seq, T.c.actor).order_by(T.c.seq)).all()
    assert [tuple(r) for r in rows] == [(1, "meera"), (2, "meera")]


def test_an_edited_entry_is_found(tamperable: Store) -> None:
    append(tamperable, 5)
    with tamperable.engine.begin() as conn:
        conn.execute(update(T).where(T.c.seq == 3).values(actor="somebody-else"))
    assert problems(tamperable) == [(3, "edited")]


def _forged(seq: int, prev_hash: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "seq": seq,
        "at": utcnow(),
        "actor": "meera",
        "role": "analyst",
        "action": "case.read",
        "case_id": 1,
        "object_kind": None,
        "object_id": None,
        "details": {},
        "prev_hash": prev_hash,
    }
    entry["entry_hash"] = audit.entry_digest(entry)
    return entry


def _make_room_at(conn: Any, seq: int) -> None:
    """Renumber the entries from ``seq`` on up by one (in two steps: seq is the key)."""
    conn.execute(update(T).where(T.c.seq >= seq).values(seq=T.c.seq + 1_000_000))
    conn.execute(update(T).where(T.c.seq >= 1_000_000).values(seq=T.c.seq - 999_999))


def test_an_inserted_entry_is_found(tamperable: Store) -> None:
    append(tamperable, 5)
    with tamperable.engine.connect() as conn:
        hashes = dict(conn.execute(select(T.c.seq, T.c.entry_hash)).all())
    with tamperable.engine.begin() as conn:
        _make_room_at(conn, 3)
        # A forged entry 3 that links to entry 2 and carries its own correct hash; the old
        # entry 3 (now 4) must give up its link to 2 (prev_hash is unique), so it links to
        # the forgery instead.
        forged = _forged(3, hashes[2])
        conn.execute(update(T).where(T.c.seq == 4).values(prev_hash=forged["entry_hash"]))
        conn.execute(T.insert().values(**forged))
    found = problems(tamperable)
    # The forgery itself looks fine; everything after it no longer matches its hash
    # (its sequence number, and for the first one its link, are part of what was hashed).
    assert found == [(4, "edited"), (5, "edited"), (6, "edited")]


def test_an_inserted_entry_with_a_rewritten_tail_is_found_against_the_head(
    tamperable: Store,
) -> None:
    """Rehashing every later entry hides an insertion from the chain alone (anyone with
    the database can do it: there is no secret); the head written down earlier finds it."""
    append(tamperable, 5)
    written_down = head_text(tamperable)
    with tamperable.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(T).order_by(T.c.seq)).mappings()]
    with tamperable.engine.begin() as conn:
        conn.execute(delete(T).where(T.c.seq >= 3))
        prev = rows[1]["entry_hash"]
        rewritten = [_forged(3, prev)]
        for i, old in enumerate(rows[2:], start=4):
            entry = dict(old, seq=i, prev_hash=rewritten[-1]["entry_hash"])
            entry["entry_hash"] = audit.entry_digest(entry)
            rewritten.append(entry)
        for entry in rewritten:
            conn.execute(T.insert().values(**entry))
    assert problems(tamperable) == []
    assert problems(tamperable, written_down) == [(5, "head missing")]


def test_a_deleted_middle_entry_is_found(tamperable: Store) -> None:
    append(tamperable, 5)
    with tamperable.engine.begin() as conn:
        conn.execute(delete(T).where(T.c.seq == 3))
    assert problems(tamperable) == [(4, "missing entries"), (4, "broken link")]


def test_a_deleted_last_entry_is_found_against_the_head(tamperable: Store) -> None:
    append(tamperable, 5)
    written_down = head_text(tamperable)
    with tamperable.engine.begin() as conn:
        conn.execute(delete(T).where(T.c.seq == 5))
    assert problems(tamperable) == []  # the chain alone cannot tell
    assert problems(tamperable, written_down) == [(5, "head missing")]
    assert problems(tamperable, "5:not-a-hash") == [(5, "head missing")]


def test_concurrent_appends_never_fork_the_chain(store: Store) -> None:
    per_thread, errors = 15, []

    def writer(name: str) -> None:
        actor = Actor(username=name, role="analyst", user_id=None)
        try:
            append(store, per_thread, actor)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"writer{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with store.engine.connect() as conn:
        report = audit.verify(conn)
        seqs = [r[0] for r in conn.execute(select(T.c.seq).order_by(T.c.seq))]
        by_writer = {
            name: len(audit.entries(conn, actor=name, limit=100)) for name in ("writer0", "writer1")
        }
    assert report.ok and report.entries == 2 * per_thread
    assert seqs == list(range(1, 2 * per_thread + 1))
    assert by_writer == {"writer0": per_thread, "writer1": per_thread}


def test_entries_filter_newest_first(store: Store) -> None:
    append(store, 3)
    with store.engine.begin() as conn:
        audit.record(conn, Actor(username="ravi", role="auditor"), "login", details={"x": 1})
    with store.engine.connect() as conn:
        newest = audit.entries(conn, limit=2)
        logins = audit.entries(conn, action="login")
        by_case = audit.entries(conn, case_id=1)
    assert [e["seq"] for e in newest] == [4, 3]
    assert [(e["actor"], e["details"]) for e in logins] == [("ravi", {"x": 1})]
    assert len(by_case) == 3 and by_case[0]["at"].endswith("+00:00")
