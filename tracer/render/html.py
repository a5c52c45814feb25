"""The self-contained HTML report: one file that opens with no network.

The world map is the country-shape SVG shipped by the `pygal_maps_world` package (LGPL-3.0+,
groups with an ISO 3166-1 alpha-2 class per country); it is read from the installed package at
run time and inlined, shaded by papers per country. Charts are inline SVG drawn here; tables sort
with a few lines of inline script. A Content-Security-Policy meta tag forbids every load from
outside the page, so even a mistake here could not make a reader's browser call out. All text
that comes from the store is escaped by Jinja2's autoescape (or html.escape in the SVG code).
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from collections.abc import Callable, Iterable, Iterator
from html import escape
from typing import Any
from urllib.parse import unquote

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from markupsafe import escape as _esc

from tracer.report import (
    UNKNOWN,
    CountRow,
    InstitutionRow,
    PaperRow,
    Report,
    YearRow,
    country_name,
    listed_then,
)

# One colour per class of the map, light to dark; even the first class (one paper) is a clear
# orange against the grey of countries without a paper, and every shaded country is outlined.
SHADES = ("#fdae6b", "#fd8d3c", "#f16913", "#d94801", "#a63603", "#7f2704", "#5a1a02", "#3b1001")
NO_DATA = "#e4e4e4"
OUTLINE = "#5a1a02"
_COUNTRY_GROUP = re.compile(r'<g class="([a-z]{2}) country map-element">')
_SVG_OPEN = re.compile(r"<svg\b[^>]*>")


@functools.lru_cache(maxsize=1)
def _world_svg() -> str | None:
    """The packaged world map, or None where the package is not installed."""
    try:
        text = (
            importlib.resources.files("pygal_maps_world")
            .joinpath("worldmap.svg")
            .read_text("utf-8")
        )
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return None
    # The file is data we inline: refuse it if it ever carried script or external references.
    if re.search(r"<script|href|url\(", text, re.IGNORECASE):
        return None
    return text


def map_classes(top: int) -> list[tuple[int, int]]:
    """Classes of papers per country in readable log steps: 1, 2, 3-5, 6-10, 11-20, 21-50, ...
    up to the class holding `top`; decades (1, 2-10, 11-100, ...) when those would need more
    colours than SHADES has."""
    if top <= 0:
        return []
    edges = [1]
    while edges[-1] < top:
        edges.append(edges[-1] * 5 // 2 if str(edges[-1])[0] == "2" else edges[-1] * 2)
    if len(edges) > len(SHADES):
        edges = [1]
        while edges[-1] < top:
            edges.append(edges[-1] * 10)
    classes, low = [], 1
    for edge in edges:
        classes.append((low, edge))
        low = edge + 1
    return classes


def shade(count: float, classes: list[tuple[int, int]]) -> str:
    """The colour of a country with `count` papers."""
    for index, (low, high) in enumerate(classes):
        if low <= count <= high:
            return SHADES[min(index, len(SHADES) - 1)]
    return NO_DATA


def class_label(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}–{high}"


_PATH_TOKEN = re.compile(r"[MmLlHhVvCcSsQqTtAaZz]|-?(?:\d+\.?\d*|\.\d+)(?:e-?\d+)?")
_ARGS = {"m": 2, "l": 2, "h": 1, "v": 1, "c": 6, "s": 4, "q": 4, "t": 2, "a": 7, "z": 0}
SMALL = 45  # map units: a country narrower and lower than this gets a dot so that it shows
DOT = 13


def path_box(d: str) -> tuple[float, float, float, float] | None:
    """The bounding box (x0, y0, x1, y1) of an SVG path's points, control points included."""
    xs: list[float] = []
    ys: list[float] = []
    x = y = sx = sy = 0.0
    command = ""
    tokens = _PATH_TOKEN.findall(d)
    i = 0
    while i < len(tokens):
        if tokens[i].isalpha():
            command = tokens[i]
            i += 1
            if command in "zZ":
                x, y = sx, sy
                continue
        kind = command.lower()
        n = _ARGS.get(kind, 0)
        if not n or i + n > len(tokens):
            break
        try:
            args = [float(t) for t in tokens[i : i + n]]
        except ValueError:
            return None
        i += n
        relative = command.islower()
        if kind == "h":
            x = x + args[0] if relative else args[0]
        elif kind == "v":
            y = y + args[0] if relative else args[0]
        elif kind == "a":
            x, y = (x + args[5], y + args[6]) if relative else (args[5], args[6])
        else:
            for px, py in zip(args[0::2], args[1::2], strict=True):
                xs.append(x + px if relative else px)
                ys.append(y + py if relative else py)
            x, y = xs[-1], ys[-1]
        xs.append(x)
        ys.append(y)
        if kind == "m":
            sx, sy = x, y
            command = "l" if relative else "L"  # further pairs after a moveto are linetos
    if not xs:
        return None
    return min(xs), min(ys), max(xs), max(ys)


def _dots(svg: str, shaded: dict[str, str]) -> str:
    """Dots for shaded countries too small to see (Switzerland, Singapore), drawn on top."""
    dots = []
    for code, colour in shaded.items():
        group = re.search(rf'<g class="{code} country[^"]*"[^>]*>(.*?)</g>', svg, re.DOTALL)
        if not group:
            continue
        boxes = [b for b in map(path_box, re.findall(r'\bd="([^"]+)"', group.group(1))) if b]
        if not boxes:
            continue
        x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
        x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
        if x1 - x0 < SMALL and y1 - y0 < SMALL:
            dots.append(
                f'<circle class="dot" data-country="{code.upper()}" cx="{(x0 + x1) / 2:.1f}" '
                f'cy="{(y0 + y1) / 2:.1f}" r="{DOT}" fill="{colour}" stroke="{OUTLINE}" '
                f'stroke-width="2.5"><title>{escape(country_name(code))}</title></circle>'
            )
    return svg.replace("</svg>", "".join(dots) + "</svg>") if dots else svg


def world_map(countries: list[CountRow]) -> Markup | None:
    svg = _world_svg()
    if svg is None:
        return None
    counts = {r.key.lower(): r for r in countries if r.key != UNKNOWN}
    classes = map_classes(max((r.papers for r in counts.values()), default=0))

    def country(match: re.Match[str]) -> str:
        code = match.group(1)
        row = counts.get(code)
        name = escape(country_name(code))
        if row is None:
            return f'<g class="{code} country" fill="{NO_DATA}"><title>{name}: 0 papers</title>'
        return (
            f'<g class="{code} country shaded" fill="{shade(row.papers, classes)}" '
            f'stroke="{OUTLINE}" stroke-width="1.6" '
            f'data-country="{code.upper()}" data-papers="{row.papers}">'
            f"<title>{name}: {papers(row.papers)} (whole), {row.fractional:.2f} (fractional)"
            "</title>"
        )

    svg = _COUNTRY_GROUP.sub(country, svg)
    svg = _dots(svg, {code: shade(row.papers, classes) for code, row in counts.items()})
    viewbox = re.search(r'viewBox="([^"]+)"', svg)
    opening = (
        '<svg xmlns="http://www.w3.org/2000/svg" id="worldmap" role="img" '
        'aria-label="World map shaded by papers per country" '
        f'viewBox="{viewbox.group(1) if viewbox else "0 0 2475 1388"}" '
        'stroke="#ffffff" stroke-width="0.6">'
    )
    return Markup(_SVG_OPEN.sub(opening, svg, count=1))


def map_legend(countries: list[CountRow]) -> list[tuple[str, str, int]]:
    """(colour, papers per country, how many countries) for each class, then no papers."""
    rows = [r for r in countries if r.key != UNKNOWN]
    classes = map_classes(max((r.papers for r in rows), default=0))
    legend = [
        (SHADES[min(i, len(SHADES) - 1)], class_label(low, high),
         sum(1 for r in rows if low <= r.papers <= high))
        for i, (low, high) in enumerate(classes)
    ]
    return legend + [(NO_DATA, "0", -1)]


def papers(count: int) -> str:
    return f"{count} paper" if count == 1 else f"{count} papers"


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {many or word + 's'}"


def bar_chart(
    items: list[tuple[str, float]], *, chart_id: str, label: str, vertical: bool
) -> Markup:
    """A bar chart as inline SVG; labels escaped, numbers written by us."""
    top = max((v for _, v in items), default=0) or 1
    parts: list[str] = []
    if vertical:
        slot, height = 44, 200
        width = max(240, slot * len(items) + 40)
        for i, (name, value) in enumerate(items):
            h = value / top * (height - 50)
            x, y = 30 + i * slot, height - 30 - h
            parts.append(
                f'<rect class="bar" x="{x}" y="{y:.1f}" width="{slot - 10}" height="{h:.1f}" '
                f'fill="#7b3294" data-label="{escape(name)}" data-value="{value:g}">'
                f"<title>{escape(name)}: {value:g}</title></rect>"
                f'<text x="{x + (slot - 10) / 2}" y="{y - 4:.1f}" text-anchor="middle">{value:g}</text>'
                f'<text x="{x + (slot - 10) / 2}" y="{height - 12}" text-anchor="middle">'
                f"{escape(name)}</text>"
            )
    else:
        row, width = 28, 400
        height = row * len(items) + 20
        for i, (name, value) in enumerate(items):
            w = value / top * (width - 180)
            y = 10 + i * row
            parts.append(
                f'<text x="120" y="{y + 17}" text-anchor="end">{escape(name)}</text>'
                f'<rect class="bar" x="130" y="{y}" width="{w:.1f}" height="{row - 8}" '
                f'fill="#2c7fb8" data-label="{escape(name)}" data-value="{value:g}">'
                f"<title>{escape(name)}: {value:g}</title></rect>"
                f'<text x="{136 + w:.1f}" y="{y + 17}">{value:g}</text>'
            )
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(chart_id)}" class="chart" '
        f'role="img" aria-label="{escape(label)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" font-size="12" font-family="sans-serif">'
        + "".join(parts)
        + "</svg>"
    )


def year_chart(years: list[YearRow]) -> Markup:
    items = [(str(y.year) if y.year is not None else "n.d.", float(y.papers)) for y in years]
    return bar_chart(items, chart_id="chart-years", label="Papers per year", vertical=True)


def sector_chart(sectors: list[CountRow]) -> Markup:
    items = [(r.label, float(r.papers)) for r in sectors]
    return bar_chart(items, chart_id="chart-sectors", label="Papers by sector", vertical=False)


def http_url(value: str | None) -> str:
    """A link target only when it is a web address: never javascript: or data: from the store."""
    return value if value and value.startswith(("https://", "http://")) else ""


@functools.lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("tracer.render", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["http_url"] = http_url
    return env


LINK_LABELS = (
    ("https://doi.org/", "DOI"),
    ("https://arxiv.org/abs/", "arXiv"),
    ("https://www.semanticscholar.org/paper/", "Semantic Scholar"),
    ("https://openalex.org/", "OpenAlex"),
)


def link_label(url: str) -> str:
    """A link's text: the site and the id, e.g. "DOI 10.1109/cvpr.2016.255"."""
    for prefix, label in LINK_LABELS:
        if url.startswith(prefix):
            return f"{label} {unquote(url.removeprefix(prefix))}"
    return url.split("/")[2] if url.count("/") >= 2 else url


def title_link(paper: PaperRow) -> Markup:
    """The title, linked to the paper's first page (DOI first) when it has one."""
    title = escape(paper.title or "(no title)")
    url = http_url(paper.links[0]) if paper.links else ""
    if not url:
        return Markup(f"<strong>{title}</strong>")
    return Markup(f'<a href="{escape(url)}" rel="noopener noreferrer"><strong>{title}</strong></a>')


def author_list(paper: PaperRow) -> str:
    names = [a.name or "?" for a in paper.authors]
    more = " and others (the source cut the list)" if paper.authors_truncated else ""
    return ", ".join(names) + more


# The per-paper parts of the page (the papers table, each flagged institution's papers, the
# papers after the withdrawal) are written here rather than in the template: Jinja's work per
# cell (attribute look-ups, filters, an escape call each) was most of a large page's time. The
# text is the template's own, escaped the same way (markupsafe's escape, as Jinja's
# autoescape does: None prints as "None", a missing evidence key as nothing).


_SPECIAL = re.compile("[&<>'\"]")  # what markupsafe escapes


def _e(value: Any) -> str:
    """markupsafe's escape as text, without a Markup object per call: the same five
    characters, the same entities (tests/test_render.py holds the two side by side)."""
    kind = type(value)
    if kind is str:
        text: str = value
        if not _SPECIAL.search(text):
            return text  # most cells: nothing to escape
    elif kind is int:
        return str(value)
    if hasattr(value, "__html__"):
        return str(_esc(value))
    return (
        str(value).replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
        .replace("'", "&#39;").replace('"', "&#34;")
    )


def _item(entry: dict[str, Any], key: str) -> str:
    """`{{ e.key }}` of the template on an evidence dict: a missing key prints nothing."""
    return _e(entry[key]) if key in entry else ""


def _score(value: float | None) -> str:
    return "%.2f" % value if value is not None else ""  # noqa: UP031 - the template's format


def paper_row(p: PaperRow) -> str:
    """The paper's row of the papers table."""
    parts = [
        f'<tr data-paper="{_e(p.paper_id)}" data-level="{_e(p.level)}"><td class="title">',
        _e(p.title),
    ]
    if p.after_withdrawal:
        parts.append(' <span class="flag" title="published after the withdrawal">'
                     "after withdrawal</span>")
    if p.missing:
        parts.append(' <span class="small">(no longer found)</span>')
    parts += [
        '</td><td class="num" data-label="year">', _e(p.year or ""),
        '</td><td data-label="usage">', _e(p.level),
        '</td><td class="num" data-label="score">', _score(p.score),
        '</td><td data-label="authors">', _e(author_list(p)),
        '</td><td data-label="countries">', _e(", ".join(p.countries) or "none known"),
        '</td><td data-label="institutions">', _e("; ".join(p.institutions)),
        '</td><td data-label="flags" class="flag">', _e("; ".join(p.flags)),
        '</td><td data-label="evidence">',
    ]
    if p.evidence:
        parts += ["<details><summary>", plural(len(p.evidence), "sentence"), "</summary>"]
        for ev in p.evidence:
            parts += ["<div>[", _item(ev, "kind"), ", ", _item(ev, "source"), "] ",
                      _item(ev, "text"), "</div>"]
        parts.append("</details>")
    parts.append('</td><td data-label="links">')
    last = len(p.links) - 1
    for n, link in enumerate(p.links):
        anchor = _anchor(link)
        if anchor:
            parts.append(anchor)
            if n != last:
                parts.append(", ")
    parts.append("</td></tr>\n")
    return "".join(parts)


def _anchor(link: str) -> str:
    """A link of the papers table as the page writes it ("" where it is no web address)."""
    url = http_url(link)
    if not url:
        return ""
    if "%" not in url and not _SPECIAL.search(url):
        # Nearly every link (links_for's): nothing to unquote, nothing to escape in the
        # address or in its text (link_label's site names hold nothing to escape either).
        for prefix, label in LINK_LABELS:
            if url.startswith(prefix):
                return (f'<a href="{url}" rel="noopener noreferrer">{label} '
                        f"{url[len(prefix):]}</a>")
    return f'<a href="{_e(url)}" rel="noopener noreferrer">{_e(link_label(link))}</a>'


def paper_rows(report: Report) -> Iterator[Markup]:
    """The rows of the papers table, most relevant first, one at a time."""
    for p in report.by_relevance():
        yield Markup(paper_row(p))


def flagged_item(p: PaperRow) -> tuple[str, str]:
    """A flagged institution's paper with its evidence, as the text before and after its
    "listed when published" part (which depends on the institution's listings)."""
    parts = ["<li>", str(title_link(p)), '\n<div class="meta">', _e(p.year or "year unknown"),
             " · ", _e(p.level)]
    if p.score is not None:
        parts += [" (score ", _score(p.score), ")"]
    before = "".join(parts)
    parts = []
    if p.after_withdrawal:
        parts.append(' · <span class="flag">after withdrawal</span>')
    parts.append("</div>\n")
    if p.authors:
        parts += ['<div class="authors">', _e(author_list(p)), "</div>"]
    for ev in p.evidence:
        parts += ["<blockquote>", _item(ev, "text"), ' <span class="small">(',
                  _item(ev, "kind"), ", ", _item(ev, "source"), ")</span></blockquote>"]
    parts.append("</li>\n")
    return before, "".join(parts)


def listed_part(then: str) -> str:
    return " · listed when published: " + _e(then) if then else ""


def flagged_papers(report: Report, inst: InstitutionRow) -> Iterator[Markup]:
    """A flagged institution's papers, each with its evidence, one list item at a time."""
    for pid in inst.paper_ids:
        p = report.paper(pid)
        before, after = flagged_item(p)
        yield Markup(before + listed_part(listed_then(inst.flags, p)) + after)


def withdrawal_item(p: PaperRow) -> str:
    parts = ["<li>", str(title_link(p)), ' <span class="meta">',
             _e(p.publication_date or p.year), " · ", _e(p.level)]
    if p.institutions:
        parts += [" · ", _e(", ".join(p.institutions))]
    parts.append("</span></li>")
    return "".join(parts)


def withdrawal_papers(report: Report) -> Iterator[Markup]:
    """The papers published after the withdrawal, one list item at a time."""
    for pid in report.withdrawal.paper_ids:
        yield Markup(withdrawal_item(report.paper(pid)))


PaperRows = Callable[[Report], Iterable[Markup]]
FlaggedItems = Callable[[Report, InstitutionRow], Iterable[Markup]]


def html_chunks(
    report: Report,
    rows: PaperRows = paper_rows,
    flagged: FlaggedItems = flagged_papers,
    withdrawn: PaperRows = withdrawal_papers,
) -> Iterator[str]:
    """The page in pieces, as the template produces them (never held whole). The per-paper
    parts come from the report's papers, or from `rows`, `flagged` and `withdrawn` (a report
    whose papers were written while they were read: tracer.render.stream)."""
    template = _environment().get_template("report.html.j2")
    return template.generate(
        r=report,
        world_map=world_map(report.countries),
        legend=map_legend(report.countries),
        year_chart=year_chart(report.years),
        sector_chart=sector_chart(report.sectors),
        paper_rows=rows,
        flagged_items=flagged,
        withdrawal_papers=withdrawn,
        papers=papers,
        plural=plural,
        country_name=country_name,
    )


def render_html(report: Report) -> str:
    return "".join(html_chunks(report))
