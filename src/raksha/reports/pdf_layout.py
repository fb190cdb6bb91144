"""The PDF building blocks every report shares (reportlab platypus): styles, tables that
break across pages with their header repeated, and a footer on every page with the
report's subject, its generation time and "page X of Y".

Hashes are set in a monospaced face at a size where 64 hex characters fit one line,
and never split, so a reader (or a text extractor) copies each one whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from raksha import __version__

PAGE = A4
MARGIN = 15 * mm
#: Width inside the margins, in points (A4 portrait: about 510).
WIDTH = PAGE[0] - 2 * MARGIN
#: The same in landscape (wide tables: operation statistics), about 812.
WIDE = landscape(PAGE)[0] - 2 * MARGIN
HASH_SIZE = 7.0
#: Courier is 0.6 em wide: one 64-character hash, plus the cell's padding.
HASH_WIDTH = 64 * 0.6 * HASH_SIZE + 8
_PAD = 3


@cache
def styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    body = ParagraphStyle(
        "body",
        parent=base["BodyText"],
        fontName="Helvetica",
        fontSize=8.5,
        leading=10.5,
        spaceAfter=3,
    )
    return {
        "title": ParagraphStyle(
            "title", parent=base["Title"], fontSize=15, leading=18, alignment=0, spaceAfter=4
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base["Heading2"],
            fontSize=12,
            leading=14,
            spaceBefore=10,
            spaceAfter=4,
            keepWithNext=1,
        ),
        "h3": ParagraphStyle(
            "h3",
            parent=base["Heading3"],
            fontSize=9.5,
            leading=12,
            spaceBefore=6,
            spaceAfter=2,
            keepWithNext=1,
        ),
        "body": body,
        "cell": ParagraphStyle("cell", parent=body, fontSize=7.5, leading=9, spaceAfter=0),
        "head": ParagraphStyle(
            "head", parent=body, fontName="Helvetica-Bold", fontSize=7.5, leading=9, spaceAfter=0
        ),
        "muted": ParagraphStyle("muted", parent=body, textColor=colors.HexColor("#444444")),
        "flag": ParagraphStyle(
            "flag",
            parent=body,
            fontName="Helvetica-Bold",
            fontSize=7.5,
            leading=9,
            textColor=colors.HexColor("#aa0000"),
            spaceAfter=0,
        ),
        "hash": ParagraphStyle(
            "hash",
            parent=body,
            fontName="Courier",
            fontSize=HASH_SIZE,
            leading=HASH_SIZE + 2,
            spaceAfter=0,
            splitLongWords=0,
        ),
        "line": ParagraphStyle("line", parent=body, fontSize=9, leading=22, spaceAfter=0),
    }


def para(text: object, style: str = "body") -> Paragraph:
    """A paragraph of plain text (escaped: names and locators come from seized evidence)."""
    return Paragraph(escape("—" if text is None or text == "" else str(text)), styles()[style])


def markup(text: str, style: str = "body") -> Paragraph:
    """A paragraph of trusted reportlab markup (our own ``<b>``), for fixed wording."""
    return Paragraph(text, styles()[style])


def lines(values: Sequence[object], style: str = "cell") -> Paragraph:
    """Several plain values in one cell, one a line."""
    text = "<br/>".join(escape(str(v)) for v in values) if values else "—"
    return Paragraph(text, styles()[style])


def hash_cell(*values: str | None) -> Paragraph:
    return lines([v for v in values if v] or ["—"], "hash")


def _cell(value: Any) -> Any:
    """A cell's content: a flowable, a list of flowables (stacked), or plain text."""
    if isinstance(value, Flowable) or (isinstance(value, list) and value):
        return value
    return para(value, "cell")


def _table_style(header: bool) -> TableStyle:
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), _PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), _PAD),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")))
    else:
        commands.append(("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eeeeee")))
    return TableStyle(commands)


def kv_table(
    rows: Sequence[tuple[str, Any]], label_width: float = 34 * mm, width: float = WIDTH
) -> Table:
    """Label / value rows; splits between rows across pages."""
    data = [[para(label, "head"), _cell(value)] for label, value in rows]
    table = Table(data, colWidths=[label_width, width - label_width], hAlign="LEFT")
    table.setStyle(_table_style(header=False))
    return table


def header_widths(header: Sequence[str], minimum: float = 20) -> list[float]:
    """Column widths in which no header word has to be split (for tables of numbers)."""
    style = styles()["head"]
    return [
        max(minimum, *(stringWidth(w, style.fontName, style.fontSize) for w in h.split()))
        + 2 * _PAD
        + 1
        for h in header
    ]


def grid_table(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    width: float = WIDTH,
) -> Table:
    """A table whose header row repeats on every page it breaks onto.

    ``widths`` are relative, except columns of exactly :data:`HASH_WIDTH`, which keep it
    (a hash column must hold 64 characters on one line); the rest share what is left.
    """
    fixed = sum(w for w in widths if w == HASH_WIDTH)
    scale = (width - fixed) / (sum(widths) - fixed)
    columns = [w if w == HASH_WIDTH else w * scale for w in widths]
    data = [[para(h, "head") for h in header]] + [[_cell(v) for v in row] for row in rows]
    table = Table(data, colWidths=columns, repeatRows=1, hAlign="LEFT")
    table.setStyle(_table_style(header=True))
    return table


def gap(height: float = 3 * mm) -> Spacer:
    return Spacer(1, height)


def _canvas_with_footer(footer: str) -> type[Canvas]:
    """A canvas that holds every page until the end, so each footer can say "of Y"."""

    class FooterCanvas(Canvas):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self.saveState()
                self.setFont("Helvetica", 7)
                self.setStrokeColor(colors.HexColor("#666666"))
                right = self._pagesize[0] - MARGIN
                self.line(MARGIN, 12 * mm, right, 12 * mm)
                self.drawString(MARGIN, 8 * mm, footer)
                self.drawRightString(right, 8 * mm, f"page {number} of {total}")
                self.restoreState()
                super().showPage()
            super().save()

    return FooterCanvas


def build_pdf(
    path: Path,
    story: list[Any],
    *,
    title: str,
    subject: str,
    footer: str,
    author: str,
    wide: bool = False,
) -> None:
    """Write ``story`` to ``path`` as an A4 PDF (landscape when ``wide``) with the footer
    on every page."""
    doc = SimpleDocTemplate(
        str(path),
        pagesize=landscape(PAGE) if wide else PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=18 * mm,
        title=title,
        subject=subject,
        author=author,
        creator=f"Raksha {__version__}",
        producer=f"Raksha {__version__} (reportlab)",
    )
    doc.build(story, canvasmaker=_canvas_with_footer(footer))
