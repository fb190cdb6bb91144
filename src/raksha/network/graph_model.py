"""The offender network in memory: nodes, edges, and a networkx view of them.

The graph itself lives in the ``graph_edges`` table (one row per relation between two
nodes); :class:`NetworkGraph` holds a selection of it as plain values so that exports and
analysis never touch SQL. A node is keyed by ``(kind, id)`` — kinds are ``person``,
``account``, ``group``, ``device``, ``item`` and ``referral``; ids are strings (database
ids or hashes). Edges keep the table's kind, count, first and last time, and its
``details`` as ``attrs``.

:meth:`NetworkGraph.to_networkx` gives a :class:`networkx.MultiDiGraph` whose node keys
are ``"kind:id"`` and whose attributes are all GraphML/GEXF-safe scalars (str, int,
float, bool): datetimes become ISO 8601 strings, ``None`` is dropped, lists and dicts
become JSON text, characters that XML 1.0 cannot carry are removed, and an attribute
whose values mix types across nodes (or edges) is written with one type throughout.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import networkx as nx  # type: ignore[import-untyped]

Scalar = str | int | float | bool
NodeKey = tuple[str, str]

NODE_KINDS = ("person", "account", "group", "device", "item", "referral")
EDGE_KINDS = (
    "member_of",
    "admin_of",
    "invited",
    "posted",
    "posted_item",
    "forwarded_from",
    "owns_device",
    "found_on_device",
    "named_in_referral",
    "has_account",
)

# Attribute names to_networkx sets itself; a node or edge attr of the same name is kept
# as "attr_<name>" rather than overwriting them.
NODE_RESERVED = frozenset({"kind", "label", "node_id"})
EDGE_RESERVED = frozenset({"kind", "count", "first_at", "last_at"})

# Characters XML 1.0 cannot hold (control characters other than tab, LF, CR; lone
# surrogates; U+FFFE/U+FFFF). ElementTree writes them anyway and the file then fails
# to parse, so they are removed.
_XML_INVALID = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Node:
    """One node: an account, person, group, device, item or referral."""

    kind: str
    id: str
    label: str = ""  # empty: the id is shown
    attrs: dict[str, Scalar] = field(default_factory=dict)

    @property
    def key(self) -> NodeKey:
        return (self.kind, self.id)


@dataclass(frozen=True)
class Edge:
    """One relation from ``src`` to ``dst`` (each a ``(kind, id)`` pair)."""

    src: NodeKey
    dst: NodeKey
    kind: str
    count: int = 1
    first_at: datetime | None = None
    last_at: datetime | None = None
    attrs: dict[str, object] = field(default_factory=dict)  # the row's ``details``


class EdgeRow(Protocol):
    """What :meth:`NetworkGraph.from_rows` reads: a ``GraphEdge`` row or anything like it."""

    @property
    def src_kind(self) -> str: ...
    @property
    def src_id(self) -> str: ...
    @property
    def dst_kind(self) -> str: ...
    @property
    def dst_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def count(self) -> int: ...
    @property
    def first_at(self) -> datetime | None: ...
    @property
    def last_at(self) -> datetime | None: ...
    @property
    def details(self) -> Mapping[str, Any] | None: ...


def node_key(kind: str, node_id: str) -> str:
    """The networkx / export key of a node: ``"kind:id"``."""
    return f"{kind}:{node_id}"


def iso(value: datetime) -> str:
    """ISO 8601 text for a time; aware times are given in UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.isoformat()


def xml_text(value: str) -> str:
    """``value`` without the characters XML 1.0 cannot carry."""
    return _XML_INVALID.sub("", value)


def flatten(value: object) -> Scalar | None:
    """A GraphML-safe scalar for an attribute value, or None to drop it."""
    if value is None:
        return None
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return xml_text(value)
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, list | tuple | dict | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return xml_text(json.dumps(items, sort_keys=True, default=str, ensure_ascii=False))
    return xml_text(str(value))


class NetworkGraph:
    """Nodes by ``(kind, id)`` and the edges between them."""

    def __init__(self) -> None:
        self.nodes: dict[NodeKey, Node] = {}
        self.edges: list[Edge] = []

    def __len__(self) -> int:
        return len(self.nodes)

    def get(self, kind: str, node_id: str) -> Node | None:
        return self.nodes.get((kind, node_id))

    def add_node(self, node: Node) -> Node:
        """Add ``node``, or merge it into the node already there under its key.

        A merge keeps the new label when it has one and updates the attributes with the
        new ones. A node without a label is labelled with its id.
        """
        old = self.nodes.get(node.key)
        if old is not None:
            label = node.label or old.label
            node = replace(node, label=label, attrs={**old.attrs, **node.attrs})
        if not node.label:
            node = replace(node, label=node.id)
        self.nodes[node.key] = node
        return node

    def add_edge(self, edge: Edge) -> Edge:
        """Add ``edge``; an endpoint not yet in the graph is added as a bare node."""
        for kind, node_id in (edge.src, edge.dst):
            if (kind, node_id) not in self.nodes:
                self.nodes[(kind, node_id)] = Node(kind, node_id, node_id, {})
        self.edges.append(edge)
        return edge

    def subgraph(self, kinds: Iterable[str]) -> NetworkGraph:
        """The nodes of the given kinds and the edges that join two of them."""
        wanted = set(kinds)
        out = NetworkGraph()
        for key, node in self.nodes.items():
            if key[0] in wanted:
                out.nodes[key] = node
        out.edges = [e for e in self.edges if e.src[0] in wanted and e.dst[0] in wanted]
        return out

    @classmethod
    def from_rows(cls, rows: Iterable[EdgeRow], nodes: Iterable[Node] = ()) -> NetworkGraph:
        """A graph from ``graph_edges`` rows, with labelled nodes where they are known."""
        graph = cls()
        for node in nodes:
            graph.add_node(node)
        for row in rows:
            graph.add_edge(
                Edge(
                    src=(row.src_kind, str(row.src_id)),
                    dst=(row.dst_kind, str(row.dst_id)),
                    kind=row.kind,
                    count=row.count if row.count is not None else 1,
                    first_at=row.first_at,
                    last_at=row.last_at,
                    attrs=dict(row.details or {}),
                )
            )
        return graph

    def to_networkx(self) -> nx.MultiDiGraph:
        """A ``networkx.MultiDiGraph`` of this graph with GraphML-safe attributes.

        Node keys are ``"kind:id"``; each node carries ``kind``, ``node_id`` (the id
        alone), ``label`` and its attributes. Each edge is keyed by its kind (``kind#2``,
        ``kind#3`` ... for repeats between the same pair) and carries ``kind``, ``count``,
        ``first_at`` and ``last_at`` (when known) and its attributes.
        """
        g = nx.MultiDiGraph()
        for node in self.nodes.values():
            data: dict[str, Scalar] = {
                "kind": xml_text(node.kind),
                "node_id": xml_text(node.id),
                "label": xml_text(node.label or node.id),
            }
            _merge_attrs(data, node.attrs, NODE_RESERVED)
            g.add_node(xml_text(node_key(node.kind, node.id)), **data)
        for edge in self.edges:
            u = xml_text(node_key(*edge.src))
            v = xml_text(node_key(*edge.dst))
            edata: dict[str, Scalar] = {"kind": xml_text(edge.kind), "count": int(edge.count)}
            if edge.first_at is not None:
                edata["first_at"] = iso(edge.first_at)
            if edge.last_at is not None:
                edata["last_at"] = iso(edge.last_at)
            _merge_attrs(edata, edge.attrs, EDGE_RESERVED)
            key = xml_text(edge.kind)
            n = 1
            while g.has_edge(u, v, key):
                n += 1
                key = f"{xml_text(edge.kind)}#{n}"
            g.add_edge(u, v, key=key, **edata)
        _unify_types(data for _, data in g.nodes(data=True))
        _unify_types(data for _, _, data in g.edges(data=True))
        return g


def _merge_attrs(
    data: dict[str, Scalar], attrs: Mapping[str, object], reserved: frozenset[str]
) -> None:
    for name, value in attrs.items():
        flat = flatten(value)
        if flat is None:
            continue
        safe = xml_text(str(name))
        data[f"attr_{safe}" if safe in reserved else safe] = flat


def _unify_types(records: Iterable[dict[str, Scalar]]) -> None:
    """Give every attribute one type across records: GraphML declares one type per key.

    ints mixed with floats become floats; any other mix becomes text.
    """
    rows = list(records)
    types: dict[str, set[type]] = {}
    for data in rows:
        for name, value in data.items():
            types.setdefault(name, set()).add(type(value))
    for name, seen in types.items():
        if len(seen) <= 1:
            continue
        to_float = seen <= {int, float}
        for data in rows:
            if name in data:
                value = data[name]
                if to_float:
                    data[name] = float(value)
                elif isinstance(value, bool):
                    data[name] = "true" if value else "false"
                else:
                    data[name] = str(value)
