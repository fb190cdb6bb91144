"""How a match is put in words on the terminal, the same in every listing."""

from __future__ import annotations

from collections.abc import Mapping


def _num(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def describe_match(hit: Mapping[str, object]) -> str:
    """Exact digest, PDQ distance, a video's frame shares, or a known image's second."""
    kind = hit.get("match_kind")
    if kind == "exact":
        return f"exact {hit.get('algorithm')}"
    if kind == "video":
        return (
            f"vPDQ: {_num(hit.get('query_share')):.0%} of its frames, "
            f"{_num(hit.get('ref_share')):.0%} of the reference's"
        )
    if kind == "frame":
        return f"PDQ d={hit.get('distance')} in the frame at {_num(hit.get('at_seconds')):.0f} s"
    return f"PDQ d={hit.get('distance')}"
