"""Communities: planted clusters of groups sharing members are found, deterministically."""

from __future__ import annotations

import random

import networkx as nx  # type: ignore[import-untyped]
import pytest

from raksha.network.communities import find_communities, modularity, projection
from raksha.network.graph_model import Edge, NetworkGraph, Node


def _planted(edge_order_seed: int | None = None) -> NetworkGraph:
    """Two clusters: 3 groups x 6 accounts each, every account in every group of its
    cluster, with posts and cluster-own items; one item posted in both bridges them."""
    edges: list[Edge] = []
    for c in ("a", "b"):
        groups = [f"{c}g{i}" for i in range(3)]
        accounts = [f"{c}{i}" for i in range(6)]
        for n, acc in enumerate(accounts):
            for grp in groups:
                edges.append(Edge(("account", acc), ("group", grp), "member_of"))
                if n % 2 == 0:
                    edges.append(Edge(("account", acc), ("group", grp), "posted", 3))
            edges.append(Edge(("account", acc), ("item", f"{c}-item-{n % 3}"), "posted_item", 2))
    edges.append(Edge(("account", "a0"), ("item", "shared"), "posted_item", 40))
    edges.append(Edge(("account", "b0"), ("item", "shared"), "posted_item", 40))
    # one person holds two accounts of cluster a; a device and a referral stay out
    edges.append(Edge(("person", "p1"), ("account", "a1"), "has_account"))
    edges.append(Edge(("person", "p1"), ("account", "a2"), "has_account"))
    edges.append(Edge(("person", "p1"), ("device", "d1"), "owns_device"))
    edges.append(Edge(("account", "b3"), ("referral", "r1"), "named_in_referral"))
    if edge_order_seed is not None:
        random.Random(edge_order_seed).shuffle(edges)
    g = NetworkGraph()
    g.add_node(Node("group", "ag0", "Group A0", {"members": 6}))
    for e in edges:
        g.add_edge(e)
    return g


def test_two_planted_clusters_are_found() -> None:
    found = find_communities(_planted())
    assert len(found) == 2
    by_groups = {tuple(c.groups): c for c in found}
    a = by_groups[("ag0", "ag1", "ag2")]
    b = by_groups[("bg0", "bg1", "bg2")]
    assert a.people == ["p1"]
    assert a.accounts == [f"a{i}" for i in range(6)]
    assert b.people == [] and b.accounts == [f"b{i}" for i in range(6)]
    # the shared item lands with one side; each side has its own three
    assert sorted([a.items, b.items]) == [3, 4]
    assert a.size == 3 + 1 + 4  # groups, the person, the 4 accounts without a person
    assert b.size == 3 + 6
    assert [c.id for c in found] == [0, 1]
    assert found[0].size >= found[1].size
    for c in found:
        assert 0.0 < c.density <= 1.0
        assert c.modularity > 0.0


def test_modularity_is_the_partitions() -> None:
    graph = _planted()
    found = find_communities(graph, seed=3)
    g = projection(graph)
    parts = nx.community.louvain_communities(g, weight="weight", seed=3)
    # projected nodes: groups, people, accounts without a person (= size), and items
    assert sorted(len(p) for p in parts) == sorted(c.size + c.items for c in found)
    assert modularity(found) == pytest.approx(nx.community.modularity(g, parts, weight="weight"))
    assert 0.3 < modularity(found) < 1.0


def test_projection_weights() -> None:
    g = projection(_planted())
    # posted 3 in a group it is a member of: 1 + 3
    assert g["account", "a0"]["group", "ag0"]["weight"] == 4.0
    assert g["account", "a3"]["group", "ag0"]["weight"] == 1.0
    # a person stands in for its accounts; their posts add up, membership counts once
    assert ("account", "a1") not in g and ("account", "a2") not in g
    assert g["person", "p1"]["group", "ag0"]["weight"] == 1.0 + 3.0
    # an item counts once however often it was posted
    assert g["account", "a0"]["item", "shared"]["weight"] == 1.0
    assert not any(k in {"device", "referral"} for k, _ in g.nodes)


def test_same_seed_same_communities() -> None:
    first = find_communities(_planted(), seed=7)
    assert find_communities(_planted(), seed=7) == first
    # the order edges were loaded in does not matter either
    assert find_communities(_planted(edge_order_seed=3), seed=7) == first


def test_resolution_splits_finer() -> None:
    coarse = find_communities(_planted(), resolution=0.05)
    fine = find_communities(_planted(), resolution=5.0)
    assert len(coarse) <= 2 < len(fine)


def test_empty_graph_has_no_communities() -> None:
    assert find_communities(NetworkGraph()) == []
    only_devices = NetworkGraph()
    only_devices.add_edge(Edge(("person", "1"), ("device", "2"), "owns_device"))
    assert find_communities(only_devices) == []
    assert modularity([]) == 0.0
