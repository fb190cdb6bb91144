"""The graph is updated incrementally as evidence arrives, on both databases: an ingest of
one more group rewrites only that group's edges and those of the accounts in it, and the
result is exactly what a full rebuild gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from raksha.chats.detect import detect_export
from raksha.hashing.crypto import digest_bytes
from raksha.network import graph, identity
from raksha.scan.pipeline import ScanOptions
from raksha.services.hashsets import import_hashset
from raksha.services.ingest import ingest_export
from raksha.store.db import Store
from raksha.store.network_models import graph_edges_table
from raksha.store.scan_repo import create_case
from tests.chats.telegram_fixtures import (
    channel_with_known_posts,
    group_with_members,
    picture,
    write_single,
)


def _ingest(store: Store, tmp_path: Path, folder: Path) -> None:
    export = detect_export(folder)
    assert export is not None
    ingest_export(store, tmp_path / "index", "c1", export, ScanOptions(workers=0))
    identity.resolve(store)


def _edges(store: Store) -> set[tuple[Any, ...]]:
    g = graph_edges_table
    with store.engine.connect() as conn:
        return {
            (r.src_kind, r.src_id, r.dst_kind, r.dst_id, r.kind, r._mapping["count"])
            for r in conn.execute(select(g))
        }


def test_one_more_group_is_an_incremental_update_equal_to_a_full_rebuild(
    store: Store, tmp_path: Path
) -> None:
    known = [picture(1), picture(2), picture(5)]
    refs = tmp_path / "refs.txt"
    refs.write_text("".join(f"md5 {digest_bytes(p).md5}\n" for p in known))
    import_hashset(store, refs, name="ref")
    create_case(store, "c1")
    _ingest(
        store,
        tmp_path,
        write_single(tmp_path / "alpha", channel_with_known_posts(known[:2], [picture(3)])),
    )
    first = graph.build(store)
    assert (first.rebuilt, first.mode) == (True, "full")
    assert graph.build(store).mode == "unchanged"

    _ingest(store, tmp_path, write_single(tmp_path / "beta", group_with_members(known[2])))
    second = graph.build(store)
    assert (second.mode, second.groups) == ("incremental", 1)
    assert second.accounts == 4  # the members of the new group, nobody else
    incremental = _edges(store)
    kinds = {e[4] for e in incremental}
    assert {"member_of", "posted", "posted_item", "invited", "has_account"} <= kinds
    full = graph.build(store, force=True)
    assert full.mode == "full"
    assert _edges(store) == incremental
    assert full.edges == second.edges == len(incremental)
