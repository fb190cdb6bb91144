"""Reading reports back as a court's clerk would: the text of a PDF (pypdf) or of an HTML
page, whitespace collapsed, so a value wrapped across lines still reads as itself."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

pypdf = pytest.importorskip("pypdf")


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def pdf_pages(path: Path) -> list[str]:
    reader = pypdf.PdfReader(str(path))
    return [_squash(page.extract_text() or "") for page in reader.pages]


def pdf_text(path: Path) -> str:
    return " ".join(pdf_pages(path))


def pdf_has_images(path: Path) -> bool:
    reader = pypdf.PdfReader(str(path))
    return any(len(page.images) for page in reader.pages)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("style", "script"):
            self._skip += 1
        if tag in ("br", "p", "td", "th", "tr", "li", "h1", "h2", "h3"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip -= 1
        if tag in ("td", "th"):
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_text(path: Path) -> str:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return _squash("".join(parser.parts))


def section(text: str, start: str, ends: list[str]) -> str:
    """The part of ``text`` from ``start`` to the first of ``ends`` after it."""
    begin = text.index(start)
    stops = [text.find(e, begin + len(start)) for e in ends]
    stops = [s for s in stops if s != -1]
    return text[begin : min(stops) if stops else len(text)]
