"""The plan as a Gantt chart: one SVG drawn on the server, readable printed in black and white.

Each side is told apart by a letter beside the code and by the bar's fill pattern, overdue
bars by a word beside them and a heavy outline, so nothing depends on colour. Shapes are
short paths with integer coordinates and the styles are classes: 5,000 items stay well under
2 MB (bench/pages.py measures it).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

from service.items.models import Responsibility
from service.items.schemas import ItemRead

ROW = 20
HEADER = 46
LABEL_WIDTH = 380
CHART_WIDTH = 1000
WIDTH = LABEL_WIDTH + CHART_WIDTH + 20
TITLE_CHARS = 20
BAR = 13

SIDE_CLASS = {
    Responsibility.vendor: "v",
    Responsibility.municipality: "m",
    Responsibility.joint: "j",
}

# Inside the SVG, so a downloaded chart looks as it does on the page; the page's own sheet
# (static/pages.css) repeats none of it.
STYLE = """
text{font:12px sans-serif;fill:#111}.g{font-weight:bold}.c{font-family:monospace}
.v{fill:#1f4e8c}.m{fill:url(#hm);stroke:#8a4b00}.j{fill:url(#hj);stroke:#2d6a2d}
.s{fill:#333}.p{fill:#000}.o{stroke:#b00020;stroke-width:3}.ow{fill:#b00020;font-weight:bold}
.band{fill:#f2f2f2}.grid{stroke:#ccc;fill:none}.today{stroke:#b00020;stroke-width:2}
.arrow{stroke:#555;fill:none;marker-end:url(#ah)}.axis{font-size:10px}
"""

# The page's Content-Security-Policy admits this one style element by its hash.
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()

DEFS = (
    "<defs>"
    '<pattern id="hm" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffe0b3"/>'
    '<path d="M0 0V6" stroke="#8a4b00" stroke-width="2"/></pattern>'
    '<pattern id="hj" width="5" height="5" patternUnits="userSpaceOnUse">'
    '<rect width="5" height="5" fill="#d9f0d9"/><circle cx="2.5" cy="2.5" r="1.2" fill="#2d6a2d"/>'
    "</pattern>"
    '<marker id="ah" viewBox="0 0 6 6" refX="6" refY="3" markerWidth="6" markerHeight="6" '
    'orient="auto"><path d="M0 0L6 3L0 6z" fill="#555"/></marker>'
    "</defs>"
)


@dataclass(frozen=True)
class ChartWords:
    """What the chart says, in the reader's language."""

    side_letter: Callable[[Responsibility], str]
    month: Callable[[date], str]
    today: str
    overdue: str
    unscheduled: str
    title: str
    description: str
    legend: Sequence[tuple[str, str]]  # (class, label)


def _span(items: Sequence[ItemRead], as_of: date) -> tuple[date, date]:
    days = [d for item in items for d in (item.planned_start, item.planned_end) if d is not None]
    first, last = (min(days), max(days)) if days else (as_of, as_of)
    first, last = min(first, as_of), max(last, as_of)
    return first.replace(day=1), last + timedelta(days=14)


def _months(first: date, last: date) -> list[date]:
    months, current = [], first
    while current <= last:
        months.append(current)
        current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
    return months


def _short(text: str) -> str:
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…"


def render_gantt(
    items: Sequence[ItemRead],
    depths: dict[int, int],
    parents: set[int],
    as_of: date,
    words: ChartWords,
    *,
    ids: str = "gantt",
) -> str:
    """The chart of these items (in code order) as one SVG element."""
    first, last = _span(items, as_of)
    scale = CHART_WIDTH / max(1, (last - first).days)

    def x(day: date) -> int:
        return LABEL_WIDTH + round((day - first).days * scale)

    height = HEADER + ROW * max(1, len(items)) + 8
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" '
        f'aria-labelledby="{ids}-t {ids}-d" class="gantt">',
        f'<title id="{ids}-t">{escape(words.title)}</title>',
        f'<desc id="{ids}-d">{escape(words.description)}</desc>',
        f"<style>{STYLE}</style>",
        DEFS,
    ]
    # Bands behind each top-level group, so a row reads across the page.
    group, band_start, shade = None, HEADER, False
    bands = []
    for row, item in enumerate(items):
        if depths.get(item.id, 0) == 0:
            if group is not None and shade:
                bands.append((band_start, HEADER + row * ROW))
            group, band_start, shade = item.id, HEADER + row * ROW, not shade
    if shade:
        bands.append((band_start, HEADER + len(items) * ROW))
    out.extend(f'<path class="band" d="M0 {top}H{WIDTH}V{bottom}H0z"/>' for top, bottom in bands)
    months = _months(first, last)
    grid = "".join(f"M{x(month)} 30V{height}" for month in months)
    out.append(f'<path class="grid" d="{grid}"/>')
    out.extend(
        f'<text class="axis" x="{x(month) + 2}" y="26">{escape(words.month(month))}</text>'
        for month in months
    )
    legend_x = 4
    for css, label in words.legend:
        out.append(f'<path class="{css}" d="M{legend_x} 6h24v{BAR}h-24z"/>')
        out.append(f'<text x="{legend_x + 28}" y="16">{escape(label)}</text>')
        legend_x += 40 + 12 * len(label)
    ends: dict[str, tuple[int, int]] = {}
    starts: dict[str, tuple[int, int]] = {}
    for row, item in enumerate(items):
        top = HEADER + row * ROW
        middle = top + ROW // 2
        indent = 4 + 12 * min(depths.get(item.id, 0), 6)
        side = SIDE_CLASS[item.responsibility]
        is_group = item.id in parents
        label = (
            f'<tspan class="c">{escape(item.code)}</tspan> '
            f"[{escape(words.side_letter(item.responsibility))}] {escape(_short(item.title))}"
        )
        css = ' class="g"' if is_group else ""
        out.append(f'<text{css} x="{indent}" y="{top + 14}">{label}</text>')
        start, end = item.planned_start or item.planned_end, item.planned_end or item.planned_start
        if start is None or end is None:
            out.append(
                f'<text x="{LABEL_WIDTH + 4}" y="{top + 14}">{escape(words.unscheduled)}</text>'
            )
            continue
        left, right = x(start), max(x(end + timedelta(days=1)), x(start) + 2)
        width = right - left
        if is_group:
            out.append(f'<path class="s" d="M{left} {top + 4}h{width}v8l-4 -4H{left + 4}l-4 4z"/>')
        else:
            overdue = " o" if item.overdue else ""
            out.append(
                f'<path class="{side}{overdue}" d="M{left} {top + 3}h{width}v{BAR}h-{width}z"/>'
            )
            done = round(width * item.progress / 100)
            if done:
                out.append(f'<path class="p" d="M{left} {top + 12}h{done}v4h-{done}z"/>')
        if item.overdue:
            out.append(
                f'<text class="ow" x="{right + 4}" y="{top + 14}">⚠{escape(words.overdue)}</text>'
            )
        ends[item.code] = (right, middle)
        starts[item.code] = (left, middle)
    # One path each: an arrowhead marks only the end of a whole path.
    for item in items:
        if item.code not in starts:
            continue
        to_x, to_y = starts[item.code]
        for code in item.predecessors:
            if code in ends:
                from_x, from_y = ends[code]
                out.append(f'<path class="arrow" d="M{from_x} {from_y}h4V{to_y}H{to_x}"/>')
    today_x = x(as_of)
    out.append(f'<path class="today" d="M{today_x} 30V{height}"/>')
    out.append(f'<text class="ow" x="{today_x + 3}" y="40">{escape(words.today)}</text>')
    out.append("</svg>")
    return "".join(out)
