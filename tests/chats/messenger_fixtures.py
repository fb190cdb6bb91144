"""Builders for synthetic Facebook Messenger exports, written by code.

DYI thread files are written the way Facebook writes them: every string's UTF-8 bytes
escaped one by one as ``\\u00XX`` (mojibake), so the reader's repair is exercised by
every test. E2EE files are written as plain UTF-8, as that download is. All text is
bland and made up.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

#: The folder each DYI layout puts ``messages/`` under.
LAYOUTS = {
    "2023": "",
    "2024": "your_activity_across_facebook/",
    "2025": "your_facebook_activity/",
}

BASE_MS = 1_700_000_000_000  # 2023-11-14 22:13:20 UTC


def mojibake(text: str) -> str:
    """``text`` as DYI stores it: each UTF-8 byte as its own latin-1 character."""
    return text.encode("utf-8").decode("latin-1")


def _deep(value: Any) -> Any:
    if isinstance(value, str):
        return mojibake(value)
    if isinstance(value, list):
        return [_deep(v) for v in value]
    if isinstance(value, dict):
        return {k: _deep(v) for k, v in value.items()}
    return value


def facebook_json(document: dict[str, Any], *, escape: bool = True) -> bytes:
    """A DYI file's bytes: ASCII JSON with every string mojibaked (``escape=False`` writes
    real UTF-8 instead, as a fixed exporter would)."""
    if escape:
        return json.dumps(_deep(document), ensure_ascii=True, indent=1).encode("ascii")
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


def message(sender: str, ms: int, content: str | None = None, **fields: Any) -> dict[str, Any]:
    """A DYI message; ``content=None`` leaves the field out, as media-only messages do."""
    out: dict[str, Any] = {"sender_name": sender, "timestamp_ms": ms}
    if content is not None:
        out["content"] = content
    out.update(fields)
    out.setdefault("is_geoblocked_for_viewer", False)
    return out


def photo(uri: str) -> dict[str, Any]:
    return {"uri": uri, "creation_timestamp": 1_700_000_000}


def thread(
    participants: Sequence[str],
    messages: Sequence[dict[str, Any]],
    *,
    title: str | None = None,
    thread_path: str | None = None,
) -> dict[str, Any]:
    """A DYI thread file's document, keys in Facebook's order (title after messages)."""
    out: dict[str, Any] = {
        "participants": [{"name": n} for n in participants],
        "messages": list(messages),
    }
    if title is not None:
        out["title"] = title
    out["is_still_participant"] = True
    if thread_path is not None:
        out["thread_path"] = thread_path
    return out


def thread_dir(root: Path, layout: str, folder: str, name: str, *, above: str = "") -> Path:
    """The folder of a DYI thread: ``<root>/<above><layout>messages/<folder>/<name>``."""
    path = root / f"{above}{LAYOUTS[layout]}messages" / folder / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_thread(
    folder: Path, documents: Iterable[dict[str, Any]], *, escape: bool = True
) -> list[Path]:
    """``message_1.json``, ``message_2.json``, ... in ``folder``, one per document."""
    out = []
    for number, document in enumerate(documents, start=1):
        path = folder / f"message_{number}.json"
        path.write_bytes(facebook_json(document, escape=escape))
        out.append(path)
    return out


def write_file(path: Path, data: bytes = b"synthetic media bytes") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def e2ee_message(
    sender: str,
    ms: int,
    text: str = "",
    *,
    kind: str = "text",
    media: Sequence[str] = (),
    unsent: bool = False,
) -> dict[str, Any]:
    """A message of the E2EE download (camelCase keys, media uris relative to the file)."""
    return {
        "isUnsent": unsent,
        "media": [{"uri": uri} for uri in media],
        "reactions": [],
        "senderName": sender,
        "text": text,
        "timestamp": ms,
        "type": kind,
    }


def write_e2ee(
    path: Path, participants: Sequence[str], thread_name: str, messages: Sequence[dict[str, Any]]
) -> Path:
    """An E2EE chat file, plain UTF-8 JSON."""
    document = {
        "participants": list(participants),
        "threadName": thread_name,
        "messages": list(messages),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def zip_folder(folder: Path, zip_path: Path) -> Path:
    """``folder``'s files in a zip, names relative to ``folder`` (a Messenger download)."""
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return zip_path


def write_big_thread(path: Path, count: int) -> Path:
    """A thread file of ``count`` messages, written piece by piece so the test's own
    memory stays small too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="ascii") as out:
        out.write('{"participants": [{"name": "Asha"}, {"name": "Ravi"}], "messages": [\n')
        for number in range(count):
            sender = "Asha" if number % 2 else "Ravi"
            item = {
                "sender_name": sender,
                "timestamp_ms": BASE_MS - number * 1000,
                "content": f"see you at {number % 12 + 1}",
            }
            out.write(("," if number else "") + json.dumps(item) + "\n")
        out.write(
            '], "title": "Asha", "is_still_participant": true, "thread_path": "inbox/asha_1"}'
        )
    return path
