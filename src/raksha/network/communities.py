"""Communities in the offender network: groups and the people who share them and material.

:func:`find_communities` projects the graph onto an undirected weighted graph and runs
Louvain (``networkx.community.louvain_communities``) on it:

* an account (or the person it belongs to) is joined to each group it is a member or an
  admin of, or posted in, with weight ``1 + posts`` (the ``posted`` edges' counts);
* an account (or its person) is joined to each item it posted, with weight 1 however
  often it posted it, so that people who share the same material are drawn together by
  how many distinct items they share, not by how often one of them reposts.

An account that belongs to a person (``has_account``) stands in the projection as that
person, so all of one offender's accounts fall in one community. Devices, referrals,
invitations and forwards do not enter the projection.

The projection is built in sorted order and Louvain is seeded, so the same graph and
seed give the same communities. Each :class:`Community` carries its share of the
partition's modularity (they sum to :func:`modularity`) and its density.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

import networkx as nx  # type: ignore[import-untyped]

from raksha.network.graph_model import NetworkGraph, NodeKey

GROUP_EDGES = frozenset({"member_of", "admin_of", "posted"})
ITEM_EDGES = frozenset({"posted_item"})
ACTORS = frozenset({"account", "person"})


@dataclass(frozen=True)
class Community:
    """One community: its groups, people, accounts, and how much material they share."""

    id: int  # 0 for the largest, then by size
    groups: list[str]  # group ids
    people: list[str]  # person ids
    accounts: list[str]  # account ids, including the accounts of its people
    items: int  # distinct items posted by its members
    size: int  # groups + people + accounts without a person
    density: float  # edges inside / possible pairs, over its projected nodes
    modularity: float  # its term of the partition's modularity


def projection(graph: NetworkGraph) -> nx.Graph:
    """The undirected weighted graph Louvain runs on; node keys are ``(kind, id)``."""
    owner = _owners(graph)
    weights: dict[tuple[NodeKey, NodeKey], float] = defaultdict(float)
    joined: set[tuple[NodeKey, NodeKey]] = set()
    for edge in graph.edges:
        if edge.src[0] not in ACTORS:
            continue
        actor = owner.get(edge.src, edge.src)
        if edge.kind in GROUP_EDGES and edge.dst[0] == "group":
            pair = (actor, edge.dst)
            if pair not in joined:
                joined.add(pair)
                weights[pair] += 1.0
            if edge.kind == "posted":
                weights[pair] += max(edge.count, 0)
        elif edge.kind in ITEM_EDGES and edge.dst[0] == "item":
            weights[(actor, edge.dst)] = 1.0
    g = nx.Graph()
    g.add_nodes_from(sorted({n for pair in weights for n in pair}))
    for (u, v), w in sorted(weights.items()):
        g.add_edge(u, v, weight=w)
    return g


def find_communities(
    graph: NetworkGraph, *, seed: int = 0, resolution: float = 1.0
) -> list[Community]:
    """Louvain communities of ``graph``'s projection, largest first."""
    g = projection(graph)
    if g.number_of_edges() == 0:
        return []
    parts: list[set[NodeKey]] = nx.community.louvain_communities(
        g, weight="weight", seed=seed, resolution=resolution
    )
    accounts_of: dict[str, list[str]] = defaultdict(list)
    for (kind, acc_id), person in _owners(graph).items():
        if kind == "account":
            accounts_of[person[1]].append(acc_id)

    total = g.size(weight="weight")
    built: list[Community] = []
    for part in parts:
        groups = sorted(i for k, i in part if k == "group")
        people = sorted(i for k, i in part if k == "person")
        own = [i for k, i in part if k == "account"]
        accounts = sorted({*own, *(a for p in people for a in accounts_of.get(p, []))})
        items = sum(1 for k, _ in part if k == "item")
        inside = g.subgraph(part)
        internal = inside.size(weight="weight")
        degree = sum(d for _, d in g.degree(part, weight="weight"))
        share = internal / total - resolution * (degree / (2 * total)) ** 2
        n = len(part)
        density = inside.number_of_edges() / (n * (n - 1) / 2) if n > 1 else 0.0
        built.append(
            Community(
                id=-1,
                groups=groups,
                people=people,
                accounts=accounts,
                items=items,
                size=len(groups) + len(people) + len(own),
                density=density,
                modularity=share,
            )
        )
    built.sort(key=lambda c: (-c.size, -c.items, c.groups, c.people, c.accounts))
    return [replace(c, id=i) for i, c in enumerate(built)]


def modularity(communities: Sequence[Community]) -> float:
    """The modularity of the partition: the sum of its communities' shares."""
    return sum(c.modularity for c in communities)


def _owners(graph: NetworkGraph) -> dict[NodeKey, NodeKey]:
    """Each account's person (the lowest-sorting one should there be several)."""
    pairs = sorted(
        (e.src, e.dst)
        for e in graph.edges
        if e.kind == "has_account" and e.src[0] == "person" and e.dst[0] == "account"
    )
    owner: dict[NodeKey, NodeKey] = {}
    for person, account in pairs:
        owner.setdefault(account, person)
    return owner
