"""A self-contained HTML page of profiles: no script, no external file.

Per model: the row count with its history as a sparkline, anomalies in a
red box, and a card per column with its null rate as a bar, a box plot of
its quartiles (numbers), its most frequent values as bars and the history
of its mean.
"""

from __future__ import annotations

import datetime
import html
from collections.abc import Sequence

from featureduck.profiling.history import Anomaly
from featureduck.profiling.statistics import ColumnProfile, ModelProfile

History = dict[datetime.datetime, dict[tuple[str, str], float]]

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;background:#fafafa}
h1{font-size:1.4em}h2{margin-top:2em;border-bottom:1px solid #ccc}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:12px}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px 12px}
.card h3{margin:0 0 4px;font-size:1.05em}.type{color:#777;font-weight:normal}
table{border-collapse:collapse}td{padding:1px 8px 1px 0;vertical-align:middle}td.k{color:#666;white-space:nowrap}
.anomalies{background:#fdecea;border:1px solid #e57373;border-radius:6px;padding:8px 14px}
.muted{color:#888}
"""


def render(profiles: Sequence[tuple[ModelProfile, list[Anomaly], History]]) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>featureduck profile</title><style>{_STYLE}</style></head><body>",
             "<h1>featureduck profile</h1>"]
    for profile, found, past in profiles:
        parts.append(_model(profile, found, past))
    parts.append("</body></html>")
    return "\n".join(parts)


def _model(profile: ModelProfile, found: list[Anomaly], past: History) -> str:
    rows_history = _series(past, "", "rows") + [(profile.profiled_at, float(profile.rows))]
    out = [f"<h2>{_e(profile.model)} <span class='type'>{_e(profile.relation)}</span></h2>",
           f"<p><b>{profile.rows:,}</b> rows {_sparkline(rows_history)} <span class='muted'>profiled "
           f"{profile.profiled_at:%Y-%m-%d %H:%M:%S} UTC; {len(past)} earlier profiles</span></p>"]
    if found:
        out.append("<div class='anomalies'><b>Anomalies</b><ul>" + "".join(f"<li>{_e(a.describe())}</li>" for a in found) + "</ul></div>")
    out.append("<div class='cards'>" + "".join(_column(c, past, profile.profiled_at) for c in profile.columns) + "</div>")
    return "\n".join(out)


def _column(column: ColumnProfile, past: History, now: datetime.datetime) -> str:
    rows = [("nulls", f"{column.nulls:,} {_bar(column.null_rate, '#e57373')} {column.null_rate:.1%}")]
    if column.distinct is not None:
        rows.append(("distinct", f"{column.distinct:,}"))
    if column.min is not None:
        rows.append(("min / max", f"{_e(_short(column.min))} / {_e(_short(column.max))}"))
    if column.mean is not None:
        stddev = f" ± {column.stddev:,.4g}" if column.stddev is not None else ""
        rows.append(("mean", f"{column.mean:,.6g}{stddev} {_sparkline(_series(past, column.name, 'mean') + [(now, column.mean)])}"))
    q1, median, q3 = (column.quantiles.get(k) for k in ("p25", "p50", "p75"))
    if isinstance(column.min, (int, float)) and isinstance(column.max, (int, float)) and None not in (q1, median, q3):
        rows.append(("quartiles", _box(float(column.min), float(q1 or 0), float(median or 0), float(q3 or 0), float(column.max))))
    if column.top_values:
        most = max(count for _, count in column.top_values)
        rows.append(("top values", "<br>".join(
            f"{_bar(count / most, '#64b5f6', 80)} {count:,} <span class='muted'>{_e(_short(value) if value is not None else 'NULL')}</span>"
            for value, count in column.top_values
        )))
    cells = "".join(f"<tr><td class='k'>{k}</td><td>{v}</td></tr>" for k, v in rows)
    return f"<div class='card'><h3>{_e(column.name)} <span class='type'>{_e(column.type)}</span></h3><table>{cells}</table></div>"


def _series(past: History, column: str, metric: str) -> list[tuple[datetime.datetime, float]]:
    return [(moment, p[(column, metric)]) for moment, p in sorted(past.items()) if (column, metric) in p]


def _sparkline(series: list[tuple[datetime.datetime, float]], width: int = 160, height: int = 30) -> str:
    """The metric over the profiles: its lowest and highest values on the left axis, the
    first and last profile times under it, and each point's time and value on hover."""
    if len(series) < 2:
        return ""
    values = [value for _, value in series]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    left, bottom = 44, 12  # room for the value labels, and for the times
    plot_w, plot_h = width - left - 4, height - 4
    step = plot_w / (len(series) - 1)

    def y(value: float) -> float:
        return 2 + plot_h - (value - low) / span * plot_h

    xy = [(left + i * step, y(v)) for i, v in enumerate(values)]
    points = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in xy)
    dots = "".join(
        f"<circle cx='{x:.1f}' cy='{yy:.1f}' r='{3 if i == len(xy) - 1 else 2}' fill='#1976d2'>"
        f"<title>{moment:%Y-%m-%d %H:%M} UTC: {value:,.6g}</title></circle>"
        for i, ((x, yy), (moment, value)) in enumerate(zip(xy, series, strict=True))
    )
    label = "font-size='9' fill='#777' font-family='sans-serif'"
    first, last = series[0][0], series[-1][0]
    return (
        f"<svg width='{width}' height='{height + bottom}' style='vertical-align:middle' role='img'>"
        f"<line x1='{left - 2}' y1='2' x2='{left - 2}' y2='{2 + plot_h}' stroke='#bbb'/>"
        f"<line x1='{left - 2}' y1='{2 + plot_h}' x2='{width - 4}' y2='{2 + plot_h}' stroke='#bbb'/>"
        f"<text x='{left - 5}' y='8' text-anchor='end' {label}>{high:,.4g}</text>"
        f"<text x='{left - 5}' y='{2 + plot_h}' text-anchor='end' {label}>{low:,.4g}</text>"
        f"<text x='{left}' y='{height + bottom - 1}' {label}>{first:%m-%d %H:%M}</text>"
        f"<text x='{width - 4}' y='{height + bottom - 1}' text-anchor='end' {label}>{last:%m-%d %H:%M}</text>"
        f"<polyline points='{points}' fill='none' stroke='#1976d2' stroke-width='1.5'/>{dots}</svg>"
    )


def _bar(fraction: float, colour: str, width: int = 60) -> str:
    filled = max(0.0, min(1.0, fraction)) * width
    return (f"<svg width='{width}' height='10' style='vertical-align:middle'><rect width='{width}' height='10' fill='#eee'/>"
            f"<rect width='{filled:.1f}' height='10' fill='{colour}'/></svg>")


def _box(low: float, q1: float, median: float, q3: float, high: float, width: int = 160) -> str:
    span = (high - low) or 1.0

    def x(value: float) -> float:
        return 4 + (value - low) / span * (width - 8)

    return (f"<svg width='{width}' height='18' style='vertical-align:middle'>"
            f"<line x1='{x(low):.1f}' x2='{x(high):.1f}' y1='9' y2='9' stroke='#999'/>"
            f"<rect x='{x(q1):.1f}' y='3' width='{max(x(q3) - x(q1), 1):.1f}' height='12' fill='#bbdefb' stroke='#1976d2'/>"
            f"<line x1='{x(median):.1f}' x2='{x(median):.1f}' y1='3' y2='15' stroke='#0d47a1' stroke-width='2'/></svg>"
            f"<br><span class='muted'>p25 {q1:,.4g} · median {median:,.4g} · p75 {q3:,.4g}</span>")


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _e(text: object) -> str:
    return html.escape(str(text))
