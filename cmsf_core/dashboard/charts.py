"""Geometry of the dashboard's inline SVG charts (the templates draw, this module measures).

- :func:`runs_chart`: recent runs left to right, two bars each (Salesforce and Campaign
  Monitor API calls) on one scale, with the run's status as a coloured base line;
- :func:`budget_gauge`: the org's daily Salesforce API use as a bar, with marks where a
  run's share ends and where syncs stop (the org ceiling).
"""

from __future__ import annotations

from dataclasses import dataclass

from cmsf_core.formatting import duration, local_time, percent
from cmsf_core.overview import ApiView, RunView

__all__ = ["Bar", "Gauge", "RunsChart", "budget_gauge", "runs_chart"]

WIDTH = 720
HEIGHT = 200
PLOT_TOP = 16
PLOT_BOTTOM = 170
LEFT = 48


@dataclass(frozen=True)
class Bar:
    """One run's two bars, its status and its tooltip."""

    x: float
    width: float
    sf_height: float
    cm_height: float
    status: str
    tip: str


@dataclass(frozen=True)
class RunsChart:
    """The runs chart: bars, scale and axis ticks."""

    width: int
    height: int
    top: int
    bottom: int
    left: int
    bars: list[Bar]
    ticks: list[tuple[float, str]]


def _ticks(maximum: int) -> list[int]:
    """Axis ticks from 0 in steps of 1, 2 or 5 times a power of ten, at most five."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if maximum / step <= 4:
                return list(range(0, -(-maximum // step) * step + 1, step))
        magnitude *= 10


def runs_chart(runs: list[RunView]) -> RunsChart:
    """Bars of API calls per platform for ``runs`` (given newest first; drawn oldest first)."""
    ordered = list(reversed(runs))
    top = max([1, *(max(r.calls.values(), default=0) for r in ordered)])
    ticks = _ticks(top)
    scale_max = ticks[-1]
    span = PLOT_BOTTOM - PLOT_TOP
    slot = (WIDTH - LEFT - 8) / max(1, len(ordered))
    bar_width = max(2.0, min(18.0, slot / 3))
    bars = []
    for index, run in enumerate(ordered):
        sf = run.calls.get("salesforce", 0)
        cm = run.calls.get("campaign_monitor", 0)
        tip = (
            f"{local_time(run.started_at)}: {run.state}"
            f"{' (full)' if run.full else ''}, {duration(run.duration_seconds)}; "
            f"{sf:,} Salesforce / {cm:,} Campaign Monitor calls"
        )
        bars.append(
            Bar(
                x=LEFT + index * slot + (slot - 2 * bar_width) / 2,
                width=bar_width,
                sf_height=span * sf / scale_max,
                cm_height=span * cm / scale_max,
                status=run.status,
                tip=tip,
            )
        )
    tick_marks = [(PLOT_BOTTOM - span * t / scale_max, f"{t:,}") for t in ticks]
    return RunsChart(WIDTH, HEIGHT, PLOT_TOP, PLOT_BOTTOM, LEFT, bars, tick_marks)


@dataclass(frozen=True)
class Gauge:
    """The API budget gauge: used width and the marks, in pixels of ``width``."""

    width: int
    used: float
    run_mark: float
    ceiling: float
    level: str
    label: str


def budget_gauge(api: ApiView, *, width: int = 480) -> Gauge:
    """The org's API use today against the sync's share and the org ceiling."""
    used = min(1.0, api.share)
    level = "ok"
    if used >= api.org_ceiling:
        level = "over"
    elif used >= api.org_ceiling * 0.8:
        level = "near"
    label = (
        f"{api.used:,} of {api.max:,} calls used today ({percent(api.share)}); a run may spend "
        f"{percent(api.run_share)}; syncs stop at {percent(api.org_ceiling)}"
    )
    return Gauge(
        width=width,
        used=width * used,
        run_mark=width * min(1.0, api.run_share),
        ceiling=width * api.org_ceiling,
        level=level,
        label=label,
    )
