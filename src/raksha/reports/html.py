"""HTML forms of the reports, from the Jinja2 templates shipped in ``templates/``.

HTML is what a court's own staff open without special software; it is one
self-contained file (styles inline, no scripts, no images, nothing fetched), so its
SHA-256 covers everything it shows. Autoescaping is on: locators and names come from
seized evidence and are never trusted as markup.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from raksha import __version__
from raksha.reports.case_model import CaseReport
from raksha.reports.formatting import fmt_share, fmt_size, fmt_time, text_or_dash


@cache
def environment() -> Environment:
    """The one Jinja2 environment: package templates, autoescaped, strict about typos."""
    env = Environment(
        loader=PackageLoader("raksha.reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["time"] = fmt_time
    env.filters["size"] = fmt_size
    env.filters["share"] = fmt_share
    env.filters["dash"] = text_or_dash
    return env


def render(template: str, *, footer: str, **context: Any) -> str:
    """Render one template with the tool's name and version and a footer line."""
    return (
        environment()
        .get_template(template)
        .render(tool="Raksha", version=__version__, footer=footer, **context)
    )


def footer_line(report_title: str, generated: str) -> str:
    return f"{report_title} · generated {generated} · Raksha {__version__}"


def render_case_report(report: CaseReport, own_name: str) -> str:
    """The case report as one HTML document; ``own_name`` is the file it will be saved as
    (the report tells the reader where its hash is stated)."""
    footer = footer_line(f"Case {report.title}", fmt_time(report.generated_at))
    return render("case_report.html.j2", footer=footer, r=report, own_name=own_name)
