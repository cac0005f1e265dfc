"""A scenario's HTML report: one self-contained page a person can read.

:func:`write_report` renders ``index.html`` from the package's jinja2 template: a chart
of the timeline (events, sync runs coloured by status, checks), a chart of the engine's
API calls per platform over virtual time, the failures with expected and found values,
the runs, the final org-vs-account comparison and the maintenance messages. Charts are
inline SVG computed here, so the page needs no script, no stylesheet download and no
network: it opens from a file or a CI artifact as it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined, select_autoescape

from scenarios.result import ScenarioResult
from scenarios.spec import format_offset, parse_duration

__all__ = ["ChartGeometry", "render_report", "write_report"]

TEMPLATE = Path(__file__).with_name("report.html.j2")
"""The page template, next to this module (found by file, not by package name, so a
project's own ``scenarios/`` folder on ``sys.path`` cannot shadow it)."""
WIDTH, LEFT, RIGHT = 960, 110, 20
STATUS_COLOURS = {
    "completed": "#2e7d32",
    "completed_with_errors": "#f9a825",
    "stopped": "#ef6c00",
    "failed": "#c62828",
    "refused": "#6a1b9a",
}
PLATFORM_COLOURS = {"salesforce": "#00a1e0", "campaign_monitor": "#7c4dff"}
PLATFORM_NAMES = {"salesforce": "Salesforce", "campaign_monitor": "Campaign Monitor"}


@dataclass(frozen=True)
class ChartGeometry:
    """The horizontal scale shared by both charts: virtual seconds to x pixels."""

    span: int

    def x(self, seconds: float) -> float:
        """The x coordinate of an offset in seconds."""
        usable = WIDTH - LEFT - RIGHT
        return round(LEFT + usable * max(0.0, min(seconds, self.span)) / self.span, 1)

    def ticks(self) -> list[tuple[float, str]]:
        """About eight axis ticks at round offsets."""
        steps = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800]
        step = next((s for s in steps if self.span / s <= 8), 604800)
        return [(self.x(t), format_offset_seconds(t)) for t in range(0, self.span + 1, step)]


def format_offset_seconds(seconds: int) -> str:
    """``+1h30m`` for 5400."""
    return format_offset(timedelta(seconds=seconds))


def _seconds(offset: str) -> int:
    return int(parse_duration(offset).total_seconds())


def _timeline_chart(result: ScenarioResult, geometry: ChartGeometry) -> dict[str, Any]:
    events, checks = [], []
    for entry in result.timeline:
        x = geometry.x(_seconds(entry.applied))
        label = f"{entry.applied} {entry.kind} {entry.name}: {entry.outcome}"
        if entry.kind in ("event", "call", "setup"):
            events.append({"x": x, "label": label, "error": entry.status == "error"})
        elif entry.kind == "check":
            checks.append({"x": x, "label": label, "ok": entry.status == "ok"})
    runs = []
    for run in result.runs:
        x1, x2 = geometry.x(run.started_s), geometry.x(run.finished_s)
        runs.append(
            {
                "x": x1,
                "width": max(4.0, round(x2 - x1, 1)),
                "colour": STATUS_COLOURS.get(run.status, "#555"),
                "label": f"run {run.number} {run.kind} {run.started}..{run.finished}: {run.status}",
                "number": run.number,
            }
        )
    return {"events": events, "checks": checks, "runs": runs, "ticks": geometry.ticks()}


def _api_chart(result: ScenarioResult, geometry: ChartGeometry) -> dict[str, Any]:
    height, top, bottom = 220, 20, 190
    totals = {p: sum(n for _, n in points) for p, points in result.api_series.items()}
    peak = max(totals.values(), default=0) or 1
    lines = []
    for platform, points in sorted(result.api_series.items()):
        cumulative, coords = 0, [(geometry.x(0), float(bottom))]
        for minute, count in points:
            x = geometry.x(minute * 60)
            coords.append((x, round(bottom - (bottom - top) * cumulative / peak, 1)))
            cumulative += count
            coords.append((x, round(bottom - (bottom - top) * cumulative / peak, 1)))
        coords.append((geometry.x(geometry.span), coords[-1][1]))
        lines.append(
            {
                "platform": PLATFORM_NAMES.get(platform, platform),
                "colour": PLATFORM_COLOURS.get(platform, "#333"),
                "points": " ".join(f"{x},{y}" for x, y in coords),
                "total": totals[platform],
            }
        )
    return {
        "height": height,
        "top": top,
        "bottom": bottom,
        "peak": peak,
        "lines": lines,
        "ticks": geometry.ticks(),
    }


def render_report(result: ScenarioResult) -> str:
    """The report page as HTML text."""
    span = max([60, _seconds(result.duration)] + [r.finished_s for r in result.runs])
    geometry = ChartGeometry(span=span + span // 40)
    template_text = TEMPLATE.read_text(encoding="utf-8")
    env = Environment(autoescape=select_autoescape(default=True), undefined=StrictUndefined)
    template = env.from_string(template_text)
    return template.render(
        result=result,
        width=WIDTH,
        left=LEFT,
        right=RIGHT,
        timeline=_timeline_chart(result, geometry),
        api=_api_chart(result, geometry),
        status_colours=STATUS_COLOURS,
    )


def write_report(result: ScenarioResult, directory: Path | str) -> Path:
    """Write ``index.html`` (and ``result.json``) for a result into ``directory``.

    Args:
        result: The scenario's result.
        directory: Created if missing.

    Returns:
        The path of ``index.html``.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "index.html"
    page.write_text(render_report(result), encoding="utf-8")
    (folder / "result.json").write_text(
        json.dumps(result.to_dict(), indent=2, sort_keys=True), encoding="utf-8"
    )
    return page
