"""The report page: one HTML file with inline CSS and SVG, nothing fetched when it is viewed.

Every chart is an ``<svg data-chart="NAME">`` whose data marks (bars, map points) carry the
class ``mark`` and a ``<title>`` tooltip; an empty chart says so inside its SVG.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from html import escape

from pipelines import __version__
from pipelines.nlp.events import EVENT_TYPES
from pipelines.report.stats import BY_EVENT_DATE, BY_PUBLISHED, UNDATED, StreamStats
from pipelines.resources import resource_path

WIDTH = 960
TOP_N = 20
# One colour per PLOVER type, in the contract's order: cooperation in blues and greens,
# verbal conflict in yellows and oranges, material conflict in reds and purples.
TYPE_COLOURS = dict(zip(EVENT_TYPES, (
    "#1f4e9c", "#3b7dd8", "#7fb0ee", "#0f7b6c", "#21a47a", "#6fcf97", "#a3d9b1", "#9bb7d4",
    "#f2c94c", "#f2994a", "#e8702a", "#c0504d", "#8e3b46", "#9b59b6", "#6c3483", "#2d132c")))
OTHER_COLOUR = "#999999"
SERIES_COLOURS = {"enriched": "#3b7dd8", "dead-lettered": "#c0504d"}
# The map's frame: equirectangular, the Arctic Ocean and Antarctica cut.
NORTH, SOUTH = 84.0, -58.0
MAX_MENTIONS = 300

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:24px auto;max-width:1000px;
color:#222;background:#fff;padding:0 12px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 4px;border-bottom:1px solid #ddd;padding-bottom:3px}
.sub,.note{color:#555;font-size:13px;margin:2px 0 6px}
.cards{display:flex;flex-wrap:wrap;gap:8px;margin:14px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:6px 12px;min-width:110px}
.card b{display:block;font-size:20px}.card span{color:#555;font-size:12px}
svg{display:block;max-width:100%;height:auto}svg text{font-size:12px;fill:#333}
svg .axis{stroke:#bbb;stroke-width:1}svg .grid{stroke:#eee;stroke-width:1}
svg .land{fill:#e7e3d8;stroke:#b9b2a0;stroke-width:0.5}svg .sea{fill:#f4f8fb}
svg .graticule{fill:none;stroke:#dde6ee;stroke-width:0.5}
svg .mention{fill:#8a8f98;fill-opacity:0.35;stroke:none}
svg .place{fill:#c0504d;fill-opacity:0.55;stroke:#7a2826;stroke-width:0.8}
svg .empty{font-size:14px;fill:#777}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;margin:4px 0}
.legend i{display:inline-block;width:11px;height:11px;margin-right:4px;vertical-align:-1px;border-radius:2px}
footer{margin-top:32px;color:#777;font-size:12px}
"""


# ---------------------------------------------------------------- helpers
def _num(n: float) -> str:
    return f"{n:,.0f}" if float(n).is_integer() else f"{n:,.1f}"


def nice_ticks(maximum: float, count: int = 4, whole: bool = False) -> list[float]:
    """Round tick values from 0 to at least ``maximum`` (whole numbers only, for counts, if ``whole``)."""
    if maximum <= 0:
        return [0, 1]
    raw = max(maximum / count, 1.0) if whole else maximum / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in ((1, 2, 5, 10) if whole else (1, 2, 2.5, 5, 10)) if m * magnitude >= raw)
    return [step * i for i in range(int(math.ceil(maximum / step)) + 1)]


def _svg(chart: str, height: float, body: list[str], label: str) -> str:
    return (f'<svg data-chart="{chart}" viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" height="{height:.0f}" '
            f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">' + "".join(body) + "</svg>")


def _empty(chart: str, message: str) -> str:
    return _svg(chart, 60, [f'<text class="empty" x="{WIDTH / 2}" y="35" text-anchor="middle">{escape(message)}</text>'],
                message)


def _clip(text: str, n: int = 48) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def hbar_chart(chart: str, rows: list[tuple[str, float, str]], colour: str | list[str], label: str,
               empty: str) -> str:
    """Horizontal bars, one per (label, value, tooltip) row, largest first as given."""
    if not rows:
        return _empty(chart, empty)
    left, right, row_h, top = 330, 70, 22, 8
    height = top + row_h * len(rows) + 8
    scale = (WIDTH - left - right) / max(value for _, value, _ in rows)
    body = [f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{height - 8}"/>']
    for i, (name, value, tip) in enumerate(rows):
        y = top + i * row_h
        fill = colour[i] if isinstance(colour, list) else colour
        width = max(value * scale, 1.0)
        body.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{escape(_clip(name))}</text>'
                    f'<rect class="mark" x="{left}" y="{y + 3}" width="{width:.1f}" height="{row_h - 6}" fill="{fill}">'
                    f'<title>{escape(tip)}</title></rect>'
                    f'<text x="{left + width + 6:.1f}" y="{y + 15}">{_num(value)}</text>')
    return _svg(chart, height, body, label)


def column_chart(chart: str, bins: list[tuple[str, dict]], series: list[str], colours: dict, label: str,
                 y_label: str, empty: str, whole: bool = False) -> str:
    """Stacked columns: ``bins`` is [(x label, {series: value})]; one mark per non-zero segment."""
    if not bins or not any(any(v for v in values.values()) for _, values in bins):
        return _empty(chart, empty)
    left, right, top, bottom, height = 56, 12, 14, 46, 300
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    ticks = nice_ticks(max(sum(values.values()) for _, values in bins), whole=whole)
    y_of = (lambda v: top + plot_h - v / ticks[-1] * plot_h)
    slot = plot_w / len(bins)
    bar = max(min(slot * 0.8, 40), 0.6)
    body = [f'<text x="14" y="{top + plot_h / 2}" transform="rotate(-90 14 {top + plot_h / 2})" '
            f'text-anchor="middle">{escape(y_label)}</text>']
    for tick in ticks:
        y = y_of(tick)
        body.append(f'<line class="grid" x1="{left}" x2="{WIDTH - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
                    f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_num(tick)}</text>')
    body.append(f'<line class="axis" x1="{left}" x2="{WIDTH - right}" y1="{top + plot_h}" y2="{top + plot_h}"/>')
    every = max(1, math.ceil(len(bins) / 8))
    labelled = sorted({i for i in range(len(bins)) if i % every == 0} | {len(bins) - 1})
    labels, taken_until = [], -1.0
    for i in labelled:   # axis labels that do not overlap, the last one right-aligned at the edge
        centre, half = left + (i + 0.5) * slot, 3.4 * len(bins[i][0])
        anchor, at, begins = ("end", left + (i + 1) * slot, left + (i + 1) * slot - 2 * half) \
            if centre + half > WIDTH - right else ("middle", centre, centre - half)
        if begins > taken_until + 6:
            labels.append(f'<text x="{at:.1f}" y="{top + plot_h + 18}" text-anchor="{anchor}">{escape(bins[i][0])}</text>')
            taken_until = begins + 2 * half
        elif i == len(bins) - 1 and labels:   # the last label wins over the one before it
            labels[-1] = f'<text x="{at:.1f}" y="{top + plot_h + 18}" text-anchor="{anchor}">{escape(bins[i][0])}</text>'
    body += labels
    for i, (x_label, values) in enumerate(bins):
        x = left + i * slot + (slot - bar) / 2
        base = 0.0
        for name in series:
            value = values.get(name, 0)
            if not value:
                continue
            y0, y1 = y_of(base), y_of(base + value)
            tip = f"{x_label}: {name} {_num(value)}"
            body.append(f'<rect class="mark" x="{x:.1f}" y="{y1:.1f}" width="{bar:.1f}" height="{max(y0 - y1, 0.5):.1f}" '
                        f'fill="{colours.get(name, OTHER_COLOUR)}"><title>{escape(tip)}</title></rect>')
            base += value
    return _svg(chart, height, body, label)


def legend(items: list[tuple[str, str]]) -> str:
    return '<div class="legend">' + "".join(
        f'<span><i style="background:{colour}"></i>{escape(text)}</span>' for text, colour in items) + "</div>"


# ---------------------------------------------------------------- events by day
def _bin_of(day: date, unit: str) -> date:
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    if unit == "year":
        return day.replace(month=1, day=1)
    return day


def _next_bin(start: date, unit: str) -> date:
    if unit == "day":
        return start + timedelta(days=1)
    if unit == "week":
        return start + timedelta(days=7)
    if unit == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start.replace(year=start.year + 1) if start.year < 9999 else start


def day_unit(first: date, last: date) -> str:
    """Days for up to three months, then weeks, months, years: at most about a hundred columns."""
    span = (last - first).days
    return "day" if span <= 92 else "week" if span <= 7 * 100 else "month" if span <= 31 * 100 else "year"


def _bin_label(start: date, unit: str) -> str:
    return {"day": start.isoformat(), "week": f"wk {start.isoformat()}", "month": f"{start:%Y-%m}",
            "year": f"{start.year}"}[unit]


def events_by_day_section(stats: StreamStats) -> str:
    by_bin: dict = {}
    dated = [day for day, _ in stats.events_by_day if day is not None]
    unit = "day"
    if dated:
        first, last = min(dated), max(dated)
        unit = day_unit(first, last)
        start = _bin_of(first, unit)
        while start <= last:   # every bin, empty ones included: gaps in the stream are news too
            by_bin[start] = Counter()
            nxt = _next_bin(start, unit)
            if nxt == start:
                break
            start = nxt
    undated = Counter()
    for (day, kind), n in stats.events_by_day.items():
        (by_bin[_bin_of(day, unit)] if day is not None else undated)[kind] += n
    bins = [(_bin_label(start, unit), dict(counts)) for start, counts in by_bin.items()]
    if undated:
        bins.append(("no date", dict(undated)))
    kinds = [k for k in EVENT_TYPES if any(k in c for _, c in bins)]
    kinds += sorted({k for _, c in bins for k in c} - set(kinds))
    totals = Counter()
    for _, counts in bins:
        totals.update(counts)
    chart = column_chart("events-by-day", bins, kinds, TYPE_COLOURS, "events per " + unit + " by PLOVER type",
                         f"events per {unit}", "no events", whole=True)
    sources = stats.day_sources
    note = (f"Each event is placed on its article's publication day; without one, on the event's own date. "
            f"{_num(sources[BY_PUBLISHED])} by publication date, {_num(sources[BY_EVENT_DATE])} by event date, "
            f"{_num(sources[UNDATED])} with no date.")
    if stats.events and sources[UNDATED] == stats.events:
        note = (f"No dates: none of the {_num(stats.events)} events has a publication date or a date of its own "
                f"(an archive without published_at), so they all stand in the “no date” column.")
    elif sources[UNDATED]:
        note += " Those stand in the “no date” column at the right."
    title = "Events per day by PLOVER type" if unit == "day" else f"Events per {unit} by PLOVER type"
    return (f"<h2>{title}</h2><p class='note'>{escape(note)}</p>" + chart
            + legend([(f"{k} {_num(totals[k])}", TYPE_COLOURS.get(k, OTHER_COLOUR)) for k in kinds]))


# ---------------------------------------------------------------- map
def _xy(lon: float, lat: float) -> tuple[float, float]:
    return (lon + 180.0) / 360.0 * WIDTH, (NORTH - lat) / 360.0 * WIDTH


def land_path() -> str:
    """The committed Natural Earth outline (``scripts/build_world_outline.py``) as one SVG path."""
    rings = json.loads(resource_path("report/world_land.json").read_text(encoding="utf-8"))["rings"]
    parts = []
    for ring in rings:
        points = [_xy(lon, lat) for lon, lat in ring]
        parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points) + "Z")
    return "".join(parts)


def map_section(stats: StreamStats) -> str:
    height = (NORTH - SOUTH) / 360.0 * WIDTH
    body = [f'<rect class="sea" x="0" y="0" width="{WIDTH}" height="{height:.0f}"/>']
    graticule = "".join(f"M{_xy(lon, NORTH)[0]:.1f},0V{height:.0f}" for lon in range(-150, 180, 30))
    graticule += "".join(f"M0,{_xy(0, lat)[1]:.1f}H{WIDTH}" for lat in range(-30, 90, 30))
    body.append(f'<path class="graticule" d="{graticule}"/>')
    body.append(f'<path class="land" d="{land_path()}"/>')
    # Context under the events: the places the articles name (a gazetteer hit), in grey.
    mentions = sorted(stats.place_mentions.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_MENTIONS]
    most = mentions[0][1] if mentions else 1
    for (name, lat, lon, country), n in mentions:
        x, y = _xy(lon, lat)
        where = f"{name} ({country})" if country else name
        body.append(f'<circle class="mention" cx="{x:.1f}" cy="{y:.1f}" r="{1.5 + 6 * math.sqrt(n / most):.1f}">'
                    f'<title>{escape(where)}: named in {n} article(s)</title></circle>')
    places = sorted(stats.places.items(), key=lambda kv: (-kv[1], kv[0]))
    biggest = places[0][1] if places else 1
    for (name, lat, lon, country), n in places:   # largest first, so small points stay on top
        x, y = _xy(lon, lat)
        r = 2.5 + 12 * math.sqrt(n / biggest)
        where = f"{name} ({country})" if country else name
        body.append(f'<circle class="mark place" cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}">'
                    f'<title>{escape(where)}: {n} event(s)</title></circle>')
    taken: list[tuple[float, float, float, float]] = []
    for (name, lat, lon, _), n in places[:12]:   # the busiest places named, where a label fits
        x, y = _xy(lon, lat)
        text = _clip(name, 24)
        box = (x + 5, y - 18, x + 7 + 6.6 * len(text), y - 3)
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in taken):
            continue
        taken.append(box)
        body.append(f'<text x="{x + 6:.1f}" y="{y - 6:.1f}" style="paint-order:stroke;stroke:#fff;stroke-width:3px">'
                    f'{escape(text)}</text>')
    placed = sum(stats.places.values())
    note = (f"{_num(placed)} event(s) at {_num(len(places))} place(s): an event's location joined to the article's "
            f"geocoded entity of that name. {_num(stats.events_unplaced)} named a place no entity located, "
            f"{_num(stats.events_without_location)} named none. Outline: Natural Earth 1:110m (public domain).")
    return (f"<h2>Where events happen</h2><p class='note'>{escape(note)}</p>" + _svg("map", height, body, "event locations")
            + legend([("event locations (area: events)", "#c0504d"),
                      (f"places the articles name ({min(len(stats.place_mentions), MAX_MENTIONS)} most named; "
                       f"area: articles)", "#8a8f98")]))


# ---------------------------------------------------------------- tables as bars
def dyads_section(stats: StreamStats) -> str:
    rows = [(f"{source} → {target}", n, f"{source} → {target}: {n} event(s)")
            for source, target, n in stats.top_dyads(TOP_N)]
    note = (f"Source actor → target actor of each event (country in brackets), the {len(rows)} most frequent of "
            f"{_num(len(stats.dyads))} pairs; {_num(stats.events_without_dyad)} event(s) lack one side.")
    return (f"<h2>Top dyads</h2><p class='note'>{escape(note)}</p>"
            + hbar_chart("dyads", rows, "#1f4e9c", "top dyads", "no event with both a source and a target actor"))


LABEL_COLOURS = {"PERSON": "#3b7dd8", "ORG": "#21a47a", "GPE": "#e8702a", "LOC": "#c0504d", "NORP": "#9b59b6",
                 "FAC": "#8e3b46", "EVENT": "#f2c94c", "PRODUCT": "#6c3483", "WORK_OF_ART": "#0f7b6c",
                 "LAW": "#9bb7d4"}


def entities_section(stats: StreamStats) -> str:
    top = stats.top_entities(TOP_N)
    rows = [(name, n, f"{name} ({label}): named in {n} article(s)") for name, label, n in top]
    colours = [LABEL_COLOURS.get(label, OTHER_COLOUR) for _, label, _ in top]
    labels = sorted({label for _, label, _ in top})
    note = (f"Entities by the number of articles that name them (canonical names; dates, times and amounts left "
            f"out), the {len(rows)} most named of {_num(len(stats.entity_articles))}.")
    return (f"<h2>Top entities</h2><p class='note'>{escape(note)}</p>"
            + hbar_chart("entities", rows, colours, "top entities", "no entities")
            + legend([(label, LABEL_COLOURS.get(label, OTHER_COLOUR)) for label in labels]))


def dead_letters_section(stats: StreamStats) -> str:
    ranked = sorted(stats.dead_reasons.items(), key=lambda kv: (-kv[1], kv[0]))
    rows = [(f"{stage} / {reason}", n, f"stage {stage}, {reason}: {n} record(s)") for (stage, reason), n in ranked]
    read = stats.enriched + stats.dead_lettered
    share = f" ({stats.dead_lettered / read:.1%} of {_num(read)} read)" if read else ""
    note = f"{_num(stats.dead_lettered)} dead letter(s){share}, by stage and reason."
    return (f"<h2>Dead letters</h2><p class='note'>{escape(note)}</p>"
            + hbar_chart("dead-letters", rows, "#c0504d", "dead-letter reasons", "no dead letters"))


# ---------------------------------------------------------------- throughput
BIN_MINUTES = (1, 2, 5, 10, 15, 30, 60, 120, 360, 720, 1440, 10080)


def throughput_section(stats: StreamStats) -> str:
    minutes = [m for m, _ in stats.processed_minutes]
    bins: list = []
    width = 1
    if minutes:
        first, last = min(minutes), max(minutes)
        width = next((w for w in BIN_MINUTES if (last - first) // w + 1 <= 120), BIN_MINUTES[-1])
        start = first - first % width
        count = (last - start) // width + 1
        if count > 2000:   # a stray clock years away: bin what fits rather than draw a million columns
            width = max(1, math.ceil((last - start + 1) / 2000))
            count = (last - start) // width + 1
        sums = [Counter() for _ in range(count)]
        for (minute, kind), n in stats.processed_minutes.items():
            sums[(minute - start) // width][kind] += n / width
        for i, values in enumerate(sums):
            moment = datetime.fromtimestamp((start + i * width) * 60, tz=timezone.utc)
            bins.append((f"{moment:%H:%M}" if last - first < 1440 else f"{moment:%m-%d %H:%M}", dict(values)))
    series = ["enriched", "dead-lettered"]
    per = "minute" if width == 1 else f"minute, averaged over {width}-minute bins"
    span = ""
    if minutes:
        begin = datetime.fromtimestamp(min(minutes) * 60, tz=timezone.utc)
        end = datetime.fromtimestamp((max(minutes) + 1) * 60, tz=timezone.utc)
        span = f" from {begin:%Y-%m-%d %H:%M} to {end:%H:%M} UTC" if end - begin < timedelta(days=1) \
            else f" from {begin:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
    note = (f"Records per {per}, by the time they were processed (provenance.processed_at; a dead letter's "
            f"failed_at){span}. A replay stamps all its records with one time (its start, or --processed-at): one column.")
    return (f"<h2>Throughput</h2><p class='note'>{escape(note)}</p>"
            + column_chart("throughput", bins, series, SERIES_COLOURS, "records per minute", "records / min",
                           "no processing times")
            + legend([(name, SERIES_COLOURS[name]) for name in series]))


# ---------------------------------------------------------------- page
def summary_cards(stats: StreamStats) -> str:
    read = stats.enriched + stats.dead_lettered
    cards = [("records read", read), ("enriched", stats.enriched), ("dead-lettered", stats.dead_lettered),
             ("entity mentions", stats.entities), ("events", stats.events),
             ("articles with events", stats.articles_with_events), ("places on the map", len(stats.places))]
    if stats.undecodable:
        cards.append(("undecodable messages", stats.undecodable))
    return '<div class="cards">' + "".join(
        f'<div class="card"><b>{_num(n)}</b><span>{escape(text)}</span></div>' for text, n in cards) + "</div>"


def render_page(stats: StreamStats, source: str, generated_at: datetime | None = None) -> str:
    """The whole report as one HTML document."""
    generated_at = generated_at or datetime.now(timezone.utc)
    first, last = stats.published
    published = (f"published {first:%Y-%m-%d} to {last:%Y-%m-%d}" if first else "no publication dates")
    sections = [events_by_day_section(stats), map_section(stats), dyads_section(stats), entities_section(stats),
                dead_letters_section(stats), throughput_section(stats)]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            # Nothing may be fetched: no scripts, styles, fonts or images from anywhere.
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
            "img-src data:\">"
            f"<title>newsflow report: {escape(source)}</title><style>{CSS}</style></head><body>"
            f"<h1>newsflow report</h1><p class='sub'>{escape(source)} · {escape(published)} · "
            f"generated {generated_at:%Y-%m-%d %H:%M} UTC by newsflow {escape(__version__)}</p>"
            + summary_cards(stats) + "".join(sections)
            + "<footer>Self-contained: this page loads nothing from the network. Map outline: Natural Earth "
              "(public domain) via the world-atlas package (ISC).</footer></body></html>\n")
