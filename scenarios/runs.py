"""Sync runs inside a scenario: running one, describing it, summarising them all.

:func:`sync` calls the engine and records the run with the API requests it made (read
from the simulators' request logs, so retries and logins count); :func:`summaries` and
:func:`api_series` turn the runs into the plain values of a
:class:`~scenarios.result.ScenarioResult`.
"""

from __future__ import annotations

from collections import Counter

from cmsf_core.clock import parse_instant
from cmsf_core.errors import CmsfError
from scenarios.play import Play, RunRecord
from scenarios.result import RunSummary
from scenarios.spec import format_offset

__all__ = ["api_series", "run_outcome", "summaries", "sync", "write_api"]


def sync(play: Play, kind: str) -> RunRecord:
    """Run the engine (``primary_sync`` or ``full_sync``) and record the run on the play."""
    org, account = play.org, play.account
    started = play.elapsed()
    cm_before, sf_before = len(account.request_log()), len(org.control.request_log)
    play.faults.start_run()
    try:
        report = play.engine.sync(full=kind == "full_sync")
        status, reason = report.status, report.reason
    except CmsfError as exc:
        report, status, reason = None, "refused", str(exc)
    finally:
        faults = play.faults.end_run()
    sf_log = list(org.control.request_log)[sf_before:]
    requests = [
        (_seconds(play, e["at"]), "campaign_monitor", e["method"], e["path"])
        for e in account.request_log()[cm_before:]
    ] + [(_seconds(play, e.at), "salesforce", e.method, e.path) for e in sf_log]
    record = RunRecord(
        number=len(play.runs) + 1,
        kind=kind,
        started=started,
        finished=play.elapsed(),
        report=report,
        status=status,
        reason=reason,
        org_id=org.org_id,
        requests=sorted(requests),
        faults=faults,
        write_requests=[
            (str(e.sobject), api)
            for e in sf_log
            if getattr(e, "sobject", None) and (api := write_api(e.method, e.path))
        ],
    )
    play.runs.append(record)
    return record


def write_api(method: str, path: str) -> str | None:
    """Which write API a Salesforce request used: ``bulk`` (an ingest job created),
    ``collections``, ``rest`` (one record), or None (not a write, or a step of a job)."""
    if method in ("GET", "HEAD"):
        return None
    if path.endswith("/jobs/ingest"):
        return "bulk" if method == "POST" else None
    if "/composite/sobjects" in path:
        return "collections"
    if "/sobjects/" in path:
        return "rest"
    return None


def _seconds(play: Play, stamp: str) -> int:
    return int((parse_instant(stamp) - play.start).total_seconds())


def run_outcome(record: RunRecord) -> str:
    """A run in one line: status, calls per platform, records written, messages."""
    calls = record.calls
    if record.report is None:
        return f"refused: {record.reason}"
    written = sum(record.report.stats.written.values())
    text = (
        f"{record.status}: {calls.get('salesforce', 0)} Salesforce / "
        f"{calls.get('campaign_monitor', 0)} Campaign Monitor calls, {written} written"
    )
    codes = sorted({m.code for m in record.report.messages})
    text += f"; messages {', '.join(codes)}" if codes else ""
    return text + "".join(f"; {fault}" for fault in record.faults)


def summaries(play: Play) -> list[RunSummary]:
    """Every run of the play as plain values."""
    out = []
    for run in play.runs:
        stats = run.report.stats if run.report is not None else None
        out.append(
            RunSummary(
                number=run.number,
                kind=run.kind,
                started=format_offset(run.started),
                finished=format_offset(run.finished),
                started_s=int(run.started.total_seconds()),
                finished_s=int(run.finished.total_seconds()),
                status=run.status,
                reason=run.reason,
                calls=run.calls,
                written=dict(sorted(stats.written.items())) if stats else {},
                failed=dict(sorted(stats.failed.items())) if stats else {},
                deleted=dict(sorted(stats.deleted.items())) if stats else {},
                jobs=[
                    {"job": j["job"], "status": j["status"], "error": j.get("error")}
                    for j in (run.report.jobs if run.report else [])
                ],
                org="production" if run.org_id == play.production_org.org_id else "sandbox",
            )
        )
    return out


def api_series(play: Play) -> dict[str, list[list[int]]]:
    """Per platform, ``[minute offset, requests in that minute]`` over every run."""
    per_minute: dict[str, Counter[int]] = {"salesforce": Counter(), "campaign_monitor": Counter()}
    for run in play.runs:
        for seconds, platform, _, _ in run.requests:
            per_minute[platform][seconds // 60] += 1
    return {p: [[m, n] for m, n in sorted(c.items())] for p, c in per_minute.items()}
