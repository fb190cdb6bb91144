"""Exports of the offender network for the tools analysts chart it in.

Four writers, all from a :class:`~raksha.network.graph_model.NetworkGraph`:

* :func:`write_graphml` — GraphML (networkx's writer): every node and edge attribute,
  typed. For Gephi, yEd, Cytoscape, or another networkx.
* :func:`write_gexf` — GEXF 1.2 for Gephi: node labels, a ``kind`` attribute on every
  node and edge, edge label = the edge's kind, edge weight = its count.
* :func:`write_link_csv` — ``entities.csv`` and ``links.csv``, the entity/link table
  pair that i2 Analyst's Notebook imports through an import specification.
* :func:`write_maltego_csv` — one row per link with both of its entities, for Maltego's
  tabular import.

Text is written safely. The XML files go through networkx's writers (ElementTree
escapes markup) after characters XML 1.0 cannot carry are removed. The CSV files are
UTF-8 (no byte-order mark), written with the :mod:`csv` module (quoting as needed); line
breaks inside a value become spaces, because i2 reads one record per line; and a text
cell that begins with ``=``, ``+``, ``-`` or ``@`` is written with a leading apostrophe
so that a spreadsheet opening the file does not run it as a formula (plain numbers such
as a Telegram group id ``-1001234567890`` are left alone). Times are ISO 8601, in UTC.

Importing them (guidance: menu names as the tools call them in current versions; check
against the version in use):

**i2 Analyst's Notebook** (classic import specifications, ``.ximp``). Import the
entities first, then the links, into the same chart:

1. *Home* tab > *Import* > *Import from File*, choose ``entities.csv``, and create a new
   specification. Separator: comma; the first row holds column headers. In the import
   design, place a single entity; set its *Identity* to ``[entity_id]`` and its *Label*
   to ``[label]``, and map ``platform``, ``identifier``, ``title``, ``members`` and
   ``score`` to attributes. The entity type is fixed per design element, so either use
   one design per ``entity_type`` with a row rule on that column (the wizard can
   include or exclude rows by rule), or import with one general type and keep
   ``entity_type`` as an attribute.
2. *Home* tab > *Import* > *Import from File*, choose ``links.csv``, with a design of two
   entities joined by a link: the end entities' *Identity* ``[from_id]`` and
   ``[to_id]`` (they merge with the entities already charted, matched on identity), the
   link's type or label ``[link_type]``, and ``count``, ``first_seen``, ``last_seen`` as
   link attributes or its date and time (custom date format ``yyyy-MM-ddTHH:mm:ss``; the
   offset that follows is always ``+00:00``). Save both specifications: the headers are
   stable, so later exports import with them unchanged.

**Maltego** (Graph desktop client): *Import | Export* tab > *Import a 3rd Party Table*,
choose the Maltego CSV, create a new mapping configuration. Under *Map Columns to
Entities* map ``from_value`` and ``to_value`` to entity types (for example
``maltego.Alias`` for accounts, ``maltego.Person`` for people, ``maltego.Phrase`` for
groups and items); choose *Manual* connectivity and draw one link from the
``from_value`` entity to the ``to_value`` entity; under *Map Columns to Links* map
``link_type`` to the link label and ``count``, ``first_seen``, ``last_seen`` to link
properties. A column maps to one entity type, so export one file per link kind
(``link_kinds=``) when the kinds of the ends differ; ``from_type``/``to_type`` say what
each end is. Save the mapping configuration and reuse it for the next export.

**Gephi**: *File* > *Open...*, choose the ``.gexf`` file (or ``.graphml``); in the
*Import report* keep the graph type *Directed* and open it in a new workspace. Nodes
show their labels; in *Appearance*, *Partition* the nodes by ``kind``; edge thickness
follows the weight (the count). *Statistics* > *Modularity* finds communities in Gephi
too (compare :mod:`raksha.network.communities`).
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

import networkx as nx  # type: ignore[import-untyped]

from raksha.network.graph_model import NetworkGraph, Node, iso, node_key

ENTITY_COLUMNS = ("entity_id", "entity_type", "label")
# Attributes analysts map in every import: always columns, in this order, even when empty.
ANALYST_ATTRS = ("platform", "identifier", "id_kind", "title", "members", "score")
LINK_COLUMNS = ("link_id", "from_id", "to_id", "link_type", "count", "first_seen", "last_seen")
MALTEGO_COLUMNS = (
    "from_type",
    "from_value",
    "to_type",
    "to_value",
    "link_type",
    "count",
    "first_seen",
    "last_seen",
)

# Names the GEXF writer reads itself rather than writing as attributes.
_GEXF_NODE_RESERVED = frozenset({"id", "pid", "start", "end", "viz", "parents", "slices", "spells"})
_GEXF_EDGE_RESERVED = frozenset(
    {"id", "label", "weight", "type", "start", "end", "slices", "spells", "key", "networkx_key"}
)

_FORMULA_START = ("=", "+", "-", "@")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x85]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

CellValue = str | int | float | bool | datetime | None


def safe_cell(value: CellValue) -> str | int | float:
    """A CSV cell for ``value``: one line of text, never read as a spreadsheet formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    text = iso(value) if isinstance(value, datetime) else str(value)
    text = _CONTROL.sub("", _LINE_BREAKS.sub(" ", text))
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        text = "'" + text
    return text


def write_graphml(graph: NetworkGraph, out_path: str | Path) -> Path:
    """Write ``graph`` as GraphML; returns the path written."""
    path = Path(out_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nx.write_graphml(graph.to_networkx(), path)
    return path


def write_gexf(graph: NetworkGraph, out_path: str | Path) -> Path:
    """Write ``graph`` as GEXF for Gephi; returns the path written.

    Node label = the node's label, ``kind`` an attribute; edge label = its kind, weight =
    its count. Attributes that GEXF keeps for itself (``id``, ``start``, ``weight``...)
    are written as ``attr_<name>``.
    """
    g = graph.to_networkx()
    for _, data in g.nodes(data=True):
        _rename_reserved(data, _GEXF_NODE_RESERVED)
    for _, _, data in g.edges(data=True):
        _rename_reserved(data, _GEXF_EDGE_RESERVED)
        data["label"] = data["kind"]
        data["weight"] = float(data["count"])
    path = Path(out_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nx.write_gexf(g, path)
    return path


def write_link_csv(graph: NetworkGraph, folder: str | Path) -> tuple[Path, Path]:
    """Write ``entities.csv`` and ``links.csv`` into ``folder``; returns both paths.

    ``entities.csv``: entity_id (``kind:id``), entity_type, label, then the analyst
    attributes (platform, identifier, id_kind, title, members, score — always present),
    then any other attribute a node has, in name order. ``links.csv``: link_id (``L1``,
    ``L2``...), from_id, to_id (entity ids), link_type, count, first_seen, last_seen.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    entities_path = out / "entities.csv"
    links_path = out / "links.csv"

    extra = sorted(
        {name for node in graph.nodes.values() for name in node.attrs}
        - set(ANALYST_ATTRS)
        - set(ENTITY_COLUMNS)
    )
    # An attribute that shares a base column's name is written as attr_<name>.
    clashing = sorted(
        {n for node in graph.nodes.values() for n in node.attrs} & set(ENTITY_COLUMNS)
    )
    attr_columns = [*ANALYST_ATTRS, *extra]
    header = [*ENTITY_COLUMNS, *attr_columns, *(f"attr_{n}" for n in clashing)]
    with entities_path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([safe_cell(h) for h in header])
        for node in graph.nodes.values():
            row: list[CellValue] = [node_key(node.kind, node.id), node.kind, node.label or node.id]
            row.extend(node.attrs.get(name) for name in attr_columns)
            row.extend(node.attrs.get(name) for name in clashing)
            writer.writerow([safe_cell(v) for v in row])

    with links_path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(LINK_COLUMNS)
        for n, edge in enumerate(graph.edges, start=1):
            writer.writerow(
                [
                    safe_cell(v)
                    for v in (
                        f"L{n}",
                        node_key(*edge.src),
                        node_key(*edge.dst),
                        edge.kind,
                        edge.count,
                        edge.first_at,
                        edge.last_at,
                    )
                ]
            )
    return entities_path, links_path


def write_maltego_csv(
    graph: NetworkGraph, path: str | Path, *, link_kinds: Iterable[str] | None = None
) -> Path:
    """Write one row per link for Maltego's tabular import; returns the path written.

    Columns: from_type, from_value, to_type, to_value, link_type, count, first_seen,
    last_seen. An entity's value is its label; where two nodes of one kind share a label
    (Maltego would merge them) the value is ``label [id]``. ``link_kinds`` keeps only
    those kinds of link.
    """
    wanted = set(link_kinds) if link_kinds is not None else None
    values = _entity_values(graph.nodes.values())
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(MALTEGO_COLUMNS)
        for edge in graph.edges:
            if wanted is not None and edge.kind not in wanted:
                continue
            writer.writerow(
                [
                    safe_cell(v)
                    for v in (
                        edge.src[0],
                        values[edge.src],
                        edge.dst[0],
                        values[edge.dst],
                        edge.kind,
                        edge.count,
                        edge.first_at,
                        edge.last_at,
                    )
                ]
            )
    return out


def _entity_values(nodes: Iterable[Node]) -> dict[tuple[str, str], str]:
    listed: Sequence[Node] = list(nodes)
    shared = Counter((n.kind, n.label or n.id) for n in listed)
    values: dict[tuple[str, str], str] = {}
    for node in listed:
        label = node.label or node.id
        values[node.key] = f"{label} [{node.id}]" if shared[(node.kind, label)] > 1 else label
    return values


def _rename_reserved(data: dict[str, object], reserved: frozenset[str]) -> None:
    for name in [n for n in data if n in reserved]:
        new = f"attr_{name}"
        while new in data:
            new = f"attr_{new}"
        data[new] = data.pop(name)
