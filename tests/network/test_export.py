"""Exports: GraphML and GEXF read back with networkx, link CSVs for i2, Maltego rows."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import networkx as nx  # type: ignore[import-untyped]
import pytest

from raksha.network.export import (
    ANALYST_ATTRS,
    LINK_COLUMNS,
    MALTEGO_COLUMNS,
    safe_cell,
    write_gexf,
    write_graphml,
    write_link_csv,
    write_maltego_csv,
)
from raksha.network.graph_model import Edge, NetworkGraph, Node

T0 = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
T1 = datetime(2024, 4, 2, 18, 5, tzinfo=UTC)


def _graph() -> NetworkGraph:
    g = NetworkGraph()
    g.add_node(Node("person", "1", "Suspect A", {"score": 7.5}))
    g.add_node(
        Node(
            "account",
            "11",
            "@trader_one",
            {"platform": "telegram", "identifier": "+15551230001", "id_kind": "phone"},
        )
    )
    g.add_node(Node("account", "12", '=HYPERLINK("http://x")', {"platform": "telegram"}))
    g.add_node(
        Node("group", "-1001234567890", 'Swap <room> & "more"', {"members": 340, "open": True})
    )
    g.add_edge(Edge(("person", "1"), ("account", "11"), "has_account"))
    g.add_edge(Edge(("account", "11"), ("group", "-1001234567890"), "member_of", 1, T0, T1))
    g.add_edge(
        Edge(
            ("account", "11"),
            ("group", "-1001234567890"),
            "posted",
            5,
            T0,
            T1,
            {"known_posts": 3},
        )
    )
    g.add_edge(Edge(("account", "12"), ("account", "11"), "invited", 1, T0, None, {"group": "g1"}))
    # an endpoint never added as a node: added bare
    g.add_edge(Edge(("account", "11"), ("item", "ab" * 32), "posted_item", 2, T0, T1))
    return g


def test_graph_model_basics() -> None:
    g = _graph()
    assert len(g.nodes) == 5
    item = g.get("item", "ab" * 32)
    assert item is not None and item.label == "ab" * 32 and item.attrs == {}
    merged = g.add_node(Node("account", "11", "", {"score": 2}))
    assert merged.label == "@trader_one"
    assert merged.attrs["platform"] == "telegram" and merged.attrs["score"] == 2
    sub = g.subgraph(["account", "group"])
    assert {k[0] for k in sub.nodes} == {"account", "group"}
    assert {e.kind for e in sub.edges} == {"member_of", "posted", "invited"}


def test_to_networkx_flattens_attributes() -> None:
    g = _graph()
    g.add_node(Node("device", "d1", "phone\x00\x0bone", {"label": "clash"}))
    g.add_edge(
        Edge(
            ("person", "1"),
            ("device", "d1"),
            "owns_device",
            1,
            datetime(2024, 5, 1, 12, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            None,
            {"nested": {"b": 1, "a": [1, 2]}, "gone": None, "count": 9},
        )
    )
    nxg = g.to_networkx()
    assert isinstance(nxg, nx.MultiDiGraph)
    dev = nxg.nodes["device:d1"]
    assert dev == {"kind": "device", "node_id": "d1", "label": "phoneone", "attr_label": "clash"}
    (data,) = [d for _, _, k, d in nxg.edges(keys=True, data=True) if k == "owns_device"]
    assert data["first_at"] == "2024-05-01T06:30:00+00:00"  # in UTC
    assert "last_at" not in data and "gone" not in data
    assert data["nested"] == '{"a": [1, 2], "b": 1}'
    assert data["count"] == 1 and data["attr_count"] == 9
    for _, attrs in nxg.nodes(data=True):
        assert all(isinstance(v, str | int | float | bool) for v in attrs.values())


def test_to_networkx_one_type_per_attribute() -> None:
    g = NetworkGraph()
    g.add_node(Node("account", "1", "a", {"score": 1, "tag": 5}))
    g.add_node(Node("account", "2", "b", {"score": 2.5, "tag": "x"}))
    nxg = g.to_networkx()
    assert nxg.nodes["account:1"]["score"] == 1.0
    assert isinstance(nxg.nodes["account:1"]["score"], float)
    assert nxg.nodes["account:1"]["tag"] == "5"


def test_graphml_round_trip(tmp_path: Path) -> None:
    g = _graph()
    path = write_graphml(g, tmp_path / "out" / "net.graphml")
    back = nx.read_graphml(path, force_multigraph=True, edge_key_type=str)
    want = g.to_networkx()
    assert back.is_directed() and back.is_multigraph()
    assert back.number_of_nodes() == want.number_of_nodes() == 5
    assert back.number_of_edges() == want.number_of_edges() == 5
    assert dict(back.nodes(data=True)) == dict(want.nodes(data=True))
    assert sorted(back.edges(keys=True, data=True), key=repr) == sorted(
        want.edges(keys=True, data=True), key=repr
    )
    group = back.nodes["group:-1001234567890"]
    assert group["label"] == 'Swap <room> & "more"'
    assert group["members"] == 340 and group["open"] is True
    posted = back.edges["account:11", "group:-1001234567890", "posted"]
    assert posted["count"] == 5 and posted["known_posts"] == 3
    assert posted["first_at"] == T0.isoformat()


def test_graphml_survives_control_characters(tmp_path: Path) -> None:
    g = NetworkGraph()
    g.add_node(Node("group", "7", "bad\x01title\ufffe", {"title": "x\x1fy"}))
    back = nx.read_graphml(write_graphml(g, tmp_path / "c.graphml"))
    assert back.nodes["group:7"]["label"] == "badtitle"
    assert back.nodes["group:7"]["title"] == "xy"


def test_gexf_round_trip(tmp_path: Path) -> None:
    g = _graph()
    g.add_node(Node("referral", "r1", "CyberTip 1", {"id": "ncmec-1", "start": "x"}))
    g.add_edge(Edge(("account", "11"), ("referral", "r1"), "named_in_referral"))
    path = write_gexf(g, tmp_path / "net.gexf")
    back = nx.read_gexf(path)
    assert back.number_of_nodes() == 6
    assert back.number_of_edges() == 6
    assert set(back.nodes) == set(g.to_networkx().nodes)
    for (kind, node_id), node in g.nodes.items():
        data = back.nodes[f"{kind}:{node_id}"]
        assert data["label"] == node.label
        assert data["kind"] == kind
    group = back.nodes["group:-1001234567890"]
    assert group["members"] == 340 and group["open"] is True
    ref = back.nodes["referral:r1"]
    assert ref["attr_id"] == "ncmec-1" and ref["attr_start"] == "x"
    edges = {(u, v, d["kind"]): d for u, v, d in back.edges(data=True)}
    posted = edges[("account:11", "group:-1001234567890", "posted")]
    assert posted["weight"] == 5.0 and posted["label"] == "posted"
    assert posted["count"] == 5 and posted["known_posts"] == 3
    assert posted["first_at"] == T0.isoformat() and posted["last_at"] == T1.isoformat()
    assert edges[("account:11", "item:" + "ab" * 32, "posted_item")]["weight"] == 2.0


def _read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def test_link_csv_headers_and_rows(tmp_path: Path) -> None:
    g = _graph()
    entities, links = write_link_csv(g, tmp_path / "i2")
    assert (entities.name, links.name) == ("entities.csv", "links.csv")
    rows = _read(entities)
    header = rows[0]
    assert header == ["entity_id", "entity_type", "label", *ANALYST_ATTRS, "open"]
    by_id = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert len(by_id) == 5
    acc = by_id["account:11"]
    assert acc["entity_type"] == "account"
    assert acc["label"] == "'@trader_one"  # starts with @: guarded like any formula
    # a phone number starts with + but is a plain number: no apostrophe
    assert acc["identifier"] == "+15551230001" and acc["id_kind"] == "phone"
    assert by_id["account:12"]["label"] == '\'=HYPERLINK("http://x")'
    grp = by_id["group:-1001234567890"]
    assert grp["members"] == "340" and grp["open"] == "true" and grp["score"] == ""
    assert by_id["person:1"]["score"] == "7.5"

    link_rows = _read(links)
    assert link_rows[0] == list(LINK_COLUMNS)
    assert len(link_rows) == 6
    first = dict(zip(LINK_COLUMNS, link_rows[2], strict=True))
    assert first == {
        "link_id": "L2",
        "from_id": "account:11",
        "to_id": "group:-1001234567890",
        "link_type": "member_of",
        "count": "1",
        "first_seen": "2024-03-01T09:30:00+00:00",
        "last_seen": "2024-04-02T18:05:00+00:00",
    }
    assert [r[0] for r in link_rows[1:]] == ["L1", "L2", "L3", "L4", "L5"]
    assert link_rows[4][6] == ""  # invited: no last time


def test_link_csv_header_is_stable_without_attributes(tmp_path: Path) -> None:
    g = NetworkGraph()
    g.add_edge(Edge(("account", "1"), ("group", "2"), "member_of"))
    entities, _ = write_link_csv(g, tmp_path)
    assert _read(entities)[0] == ["entity_id", "entity_type", "label", *ANALYST_ATTRS]


def test_link_csv_keeps_each_record_on_one_line(tmp_path: Path) -> None:
    g = NetworkGraph()
    g.add_node(Node("group", "5", "line one\nline two\r\n@three", {"title": "-1+1"}))
    entities, _ = write_link_csv(g, tmp_path)
    lines = entities.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    row = _read(entities)[1]
    assert row[2] == "line one line two @three"
    assert row[3 + ANALYST_ATTRS.index("title")] == "'-1+1"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-1001234567890", "-1001234567890"),
        ("+91 98765", "'+91 98765"),
        ("plain = text", "plain = text"),
        (-5, -5),
        (True, "true"),
        (None, ""),
    ],
)
def test_safe_cell(value: str | int | bool | None, cell: str | int) -> None:
    assert safe_cell(value) == cell


def test_maltego_rows(tmp_path: Path) -> None:
    g = _graph()
    g.add_node(Node("account", "13", "@trader_one", {"platform": "whatsapp"}))
    g.add_edge(Edge(("account", "13"), ("group", "-1001234567890"), "member_of"))
    path = write_maltego_csv(g, tmp_path / "m" / "maltego.csv")
    rows = _read(path)
    assert rows[0] == list(MALTEGO_COLUMNS)
    assert len(rows) == 1 + len(g.edges)
    posted = dict(zip(MALTEGO_COLUMNS, rows[3], strict=True))
    assert posted == {
        "from_type": "account",
        "from_value": "'@trader_one [11]",  # two accounts share the label: told apart
        "to_type": "group",
        "to_value": 'Swap <room> & "more"',
        "link_type": "posted",
        "count": "5",
        "first_seen": "2024-03-01T09:30:00+00:00",
        "last_seen": "2024-04-02T18:05:00+00:00",
    }
    assert rows[1][:4] == ["person", "Suspect A", "account", "'@trader_one [11]"]
    assert rows[4][1] == '\'=HYPERLINK("http://x")'
    assert rows[5][3] == "ab" * 32

    only = write_maltego_csv(g, tmp_path / "members.csv", link_kinds=["member_of"])
    member_rows = _read(only)[1:]
    assert [r[4] for r in member_rows] == ["member_of", "member_of"]
    assert {r[1] for r in member_rows} == {"'@trader_one [11]", "'@trader_one [13]"}
