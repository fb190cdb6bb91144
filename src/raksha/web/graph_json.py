"""The part of the offender network the console's graph view draws, as JSON.

The whole graph can hold hundreds of thousands of nodes, more than a browser can lay
out; the view asks for one piece: a person's neighbourhood (the person, their accounts,
and what those accounts touch: groups, items, forwarding sources, devices, referrals) or
one community of :func:`~raksha.network.communities.find_communities`. Either is cut at
:data:`MAX_NODES` nodes, nearest first, and says so (``truncated``, ``total_nodes``).
The graph comes from :func:`raksha.network.graph.load` after identities are resolved and
the stored graph is brought up to date, as ``raksha network export`` does.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

from raksha.errors import NotFoundError
from raksha.network import graph, identity
from raksha.network.communities import Community, find_communities
from raksha.network.graph_model import NetworkGraph, NodeKey, flatten, node_key
from raksha.store.db import Store

#: The most nodes one view sends; what lies further out is left off (and said to be).
MAX_NODES = 500
#: How far from the person a neighbourhood reaches: person → account → group, item, …
PERSON_DEPTH = 2


def current_graph(store: Store) -> NetworkGraph:
    """The stored graph, up to date with the evidence and the identity decisions."""
    identity.resolve(store)
    graph.build(store)
    return graph.load(store)


def communities(store: Store) -> tuple[NetworkGraph, list[Community]]:
    g = current_graph(store)
    return g, find_communities(g)


def _neighbours(g: NetworkGraph) -> dict[NodeKey, set[NodeKey]]:
    out: dict[NodeKey, set[NodeKey]] = {}
    for edge in g.edges:
        out.setdefault(edge.src, set()).add(edge.dst)
        out.setdefault(edge.dst, set()).add(edge.src)
    return out


def person_view(g: NetworkGraph, person_id: int, limit: int = MAX_NODES) -> dict[str, Any]:
    """The person and everything within :data:`PERSON_DEPTH` steps, nearest first."""
    start: NodeKey = ("person", str(person_id))
    if start not in g.nodes:
        raise NotFoundError(f"no person #{person_id} in the network; Suspects lists people")
    around = _neighbours(g)
    depth = {start: 0}
    queue = deque([start])
    while queue:
        key = queue.popleft()
        if depth[key] == PERSON_DEPTH:
            continue
        for other in sorted(around.get(key, ())):
            if other not in depth:
                depth[other] = depth[key] + 1
                queue.append(other)
    ordered = sorted(depth, key=lambda k: (depth[k], k != start, k))
    view = _view(g, ordered, limit)
    view["focus"] = node_key(*start)
    view["title"] = f"person #{person_id} {g.nodes[start].label}"
    return view


def community_view(
    g: NetworkGraph, found: list[Community], community_id: int, limit: int = MAX_NODES
) -> dict[str, Any]:
    """One community's groups, people and accounts (groups, then people, then accounts)."""
    chosen = next((c for c in found if c.id == community_id), None)
    if chosen is None:
        raise NotFoundError(
            f"no community {community_id}; the network page lists the {len(found)} there are"
        )
    keys: list[NodeKey] = [("group", i) for i in chosen.groups]
    keys += [("person", i) for i in chosen.people]
    keys += [("account", i) for i in chosen.accounts]
    view = _view(g, [k for k in keys if k in g.nodes], limit)
    view["focus"] = None
    view["title"] = (
        f"community {chosen.id}: {len(chosen.groups)} groups, {len(chosen.people)} people, "
        f"{len(chosen.accounts)} accounts"
    )
    return view


def _view(g: NetworkGraph, ordered: Iterable[NodeKey], limit: int) -> dict[str, Any]:
    wanted = list(dict.fromkeys(ordered))
    kept = set(wanted[:limit])
    nodes = [_node(g, key) for key in wanted[:limit]]
    edges: dict[tuple[str, str, str], dict[str, Any]] = {}
    for edge in g.edges:
        if edge.src in kept and edge.dst in kept:
            src, dst = node_key(*edge.src), node_key(*edge.dst)
            found = edges.get((src, dst, edge.kind))
            if found is not None:
                found["count"] += int(edge.count)
                continue
            edges[(src, dst, edge.kind)] = {
                "id": f"{src}|{edge.kind}|{dst}",
                "source": src,
                "target": dst,
                "kind": edge.kind,
                "count": int(edge.count),
            }
    return {
        "nodes": nodes,
        "edges": list(edges.values()),
        "total_nodes": len(wanted),
        "limit": limit,
        "truncated": len(wanted) > limit,
    }


def _node(g: NetworkGraph, key: NodeKey) -> dict[str, Any]:
    node = g.nodes[key]
    attrs = {k: flatten(v) for k, v in node.attrs.items()}
    return {
        "id": node_key(*key),
        "kind": node.kind,
        "node_id": node.id,
        "label": node.label or node.id,
        "attrs": {k: v for k, v in attrs.items() if v is not None},
    }
