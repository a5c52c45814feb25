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
from html import escape

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from tracer.report import UNKNOWN, CountRow, Report, YearRow, country_name, listed_then

# Light to dark; a country with no paper keeps the neutral grey of the map.
SHADES = ("#fde0c5", "#facba6", "#f8b58b", "#f59e72", "#f2855d", "#ef6a4c", "#c0392b")
NO_DATA = "#e4e4e4"
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


def shade(count: float, top: float) -> str:
    if count <= 0 or top <= 0:
        return NO_DATA
    index = min(len(SHADES) - 1, int(count / top * (len(SHADES) - 1) + 0.5))
    return SHADES[index]


def world_map(countries: list[CountRow]) -> Markup | None:
    svg = _world_svg()
    if svg is None:
        return None
    counts = {r.key.lower(): r for r in countries if r.key != UNKNOWN}
    top = max((r.papers for r in counts.values()), default=0)

    def country(match: re.Match[str]) -> str:
        code = match.group(1)
        row = counts.get(code)
        name = escape(country_name(code))
        if row is None:
            return f'<g class="{code} country" fill="{NO_DATA}"><title>{name}: 0 papers</title>'
        return (
            f'<g class="{code} country shaded" fill="{shade(row.papers, top)}" '
            f'data-country="{code.upper()}" data-papers="{row.papers}">'
            f"<title>{name}: {row.papers} papers (whole), {row.fractional:.2f} (fractional)</title>"
        )

    svg = _COUNTRY_GROUP.sub(country, svg)
    viewbox = re.search(r'viewBox="([^"]+)"', svg)
    opening = (
        '<svg xmlns="http://www.w3.org/2000/svg" id="worldmap" role="img" '
        'aria-label="World map shaded by papers per country" '
        f'viewBox="{viewbox.group(1) if viewbox else "0 0 2475 1388"}" '
        'stroke="#ffffff" stroke-width="0.6">'
    )
    return Markup(_SVG_OPEN.sub(opening, svg, count=1))


def map_legend(countries: list[CountRow]) -> list[tuple[str, str]]:
    top = max((r.papers for r in countries if r.key != UNKNOWN), default=0)
    if top <= 0:
        return [(NO_DATA, "no papers")]
    steps = sorted({max(1, round(top * i / (len(SHADES) - 1))) for i in range(len(SHADES))})
    return [(NO_DATA, "0")] + [(shade(n, top), str(n)) for n in steps]


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
        row, width = 28, 560
        height = row * len(items) + 20
        for i, (name, value) in enumerate(items):
            w = value / top * (width - 260)
            y = 10 + i * row
            parts.append(
                f'<text x="150" y="{y + 17}" text-anchor="end">{escape(name)}</text>'
                f'<rect class="bar" x="160" y="{y}" width="{w:.1f}" height="{row - 8}" '
                f'fill="#2c7fb8" data-label="{escape(name)}" data-value="{value:g}">'
                f"<title>{escape(name)}: {value:g}</title></rect>"
                f'<text x="{166 + w:.1f}" y="{y + 17}">{value:g}</text>'
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


def render_html(report: Report) -> str:
    template = _environment().get_template("report.html.j2")
    return template.render(
        r=report,
        world_map=world_map(report.countries),
        legend=map_legend(report.countries),
        year_chart=year_chart(report.years),
        sector_chart=sector_chart(report.sectors),
        paper=report.paper,
        listed_then=listed_then,
    )
