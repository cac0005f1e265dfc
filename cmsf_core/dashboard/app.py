"""The local dashboard: the Sync Settings and Maintenance screens in a browser (Flask).

``cmsf dashboard`` serves this app on 127.0.0.1. Pages are rendered on the server with
Jinja templates; charts are inline SVG; nothing is loaded from the network and no script
is needed except a confirmation before a full sync.

- ``/``: the Sync Settings view (connection, sync user, frequency, last sync, next run,
  the clients table, the API budget gauge, a chart and table of recent runs) with the
  **Sync Now** and **Full Sync** buttons;
- ``/maintenance``: maintenance messages with their support code's guidance, filterable
  by severity, the link scanners found (as ``cmsf scanners``) and the audit log;
- ``POST /sync``: starts ``cmsf sync`` (``--full`` for a full sync) as a background
  process with the dashboard's own options; the page refreshes itself while it runs and
  then shows the run's result;
- ``/api/status``: the Sync Settings facts and the background run as JSON.

Reads open the platforms per request (as ``cmsf status`` does); the background run is a
separate process holding the journal's runner lock, so a cron run and a button press
never run at once. Only loopback ``Host`` headers are served (no DNS rebinding), and
button posts carry a token of this server's life (no cross-site posts).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from cmsf_core.dashboard.charts import budget_gauge, runs_chart
from cmsf_core.errors import CmsfError
from cmsf_core.formatting import duration, local_time, percent
from cmsf_core.messages import SEVERITIES
from cmsf_core.overview import audit_views, message_views, sync_view
from cmsf_core.platforms import OpenedEngine
from cmsf_core.scanner_report import scanner_report

__all__ = ["BackgroundSync", "create_app"]

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass
class BackgroundSync:
    """One ``cmsf sync`` started from the dashboard, as a child process.

    Args:
        command: The command line that runs ``cmsf`` with the dashboard's global options.
    """

    command: list[str]
    full: bool = False
    started_at: str | None = None
    exit_code: int | None = None
    output: deque[str] = field(default_factory=lambda: deque(maxlen=20))
    _process: subprocess.Popen[str] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def running(self) -> bool:
        """Whether the child process is still running."""
        return self._process is not None and self._process.poll() is None

    def start(self, *, full: bool) -> bool:
        """Start a sync unless one started here is still running; True if started."""
        with self._lock:
            if self.running:
                return False
            argv = [*self.command, "sync", "--quiet"] + (["--full"] if full else [])
            self.full, self.exit_code = full, None
            self.started_at = datetime.now(UTC).isoformat()
            self.output.clear()
            self._process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env={**os.environ, "COLUMNS": "120"},
            )
            threading.Thread(target=self._collect, args=(self._process,), daemon=True).start()
            return True

    def _collect(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.strip():
                self.output.append(line.rstrip())
        self.exit_code = process.wait()

    def state(self) -> dict[str, Any]:
        """What the page shows about it."""
        return {
            "running": self.running,
            "full": self.full,
            "started_at": self.started_at,
            "exit_code": self.exit_code,
            "output": list(self.output),
        }

    def stop(self) -> None:
        """End a child still running (when the dashboard stops); it resumes next run."""
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def create_app(
    open_engine: Callable[[], AbstractContextManager[OpenedEngine]],
    cmsf_command: list[str],
) -> Flask:
    """The dashboard's Flask app.

    Args:
        open_engine: Opens the engine the dashboard shows (a context manager per request).
        cmsf_command: ``cmsf`` with the same global options, to start background syncs.
    """
    app = Flask(__name__)
    token = secrets.token_urlsafe(24)
    background = BackgroundSync(command=cmsf_command)
    app.extensions["cmsf.background"] = background
    app.jinja_env.globals.update(
        local_time=local_time, duration=duration, percent=percent, token=token
    )

    @app.before_request
    def loopback_only() -> None:
        host = urlsplit(f"//{request.host}").hostname
        if host not in LOOPBACK_HOSTS:
            abort(400, description="the dashboard answers only on localhost")
        if request.method == "POST" and request.form.get("token") != token:
            abort(403, description="stale or missing form token; reload the page")

    def read(view: Callable[[OpenedEngine], Any]) -> tuple[Any, str | None]:
        try:
            with open_engine() as engine:
                return view(engine), None
        except CmsfError as error:
            return None, str(error)

    def running(engine: OpenedEngine) -> bool:
        return background.running or engine.engine.journal.lock_holder() is not None

    @app.get("/")
    def sync_settings() -> str:
        def gather(engine: OpenedEngine) -> dict[str, Any]:
            view = sync_view(engine.engine, engine.connection, runs=20)
            return {"view": view, "busy": running(engine)}

        data, error = read(gather)
        view = data["view"] if data else None
        return render_template(
            "sync_settings.html",
            page="sync",
            view=view,
            error=error,
            busy=bool(data and data["busy"]) or background.running,
            background=background.state(),
            chart=runs_chart(view.runs) if view else None,
            gauge=budget_gauge(view.api) if view and view.api else None,
        )

    @app.get("/maintenance")
    def maintenance() -> str:
        wanted = request.args.get("severity") or ""
        severities = [wanted] if wanted in SEVERITIES else []

        def gather(engine: OpenedEngine) -> dict[str, Any]:
            gateway = engine.engine.gateway()
            core = engine.engine
            return {
                "messages": message_views(gateway, limit=100, severities=severities),
                "audit": audit_views(gateway, limit=100),
                "scanners": scanner_report(gateway, core.settings(), now=core.clock.now()),
            }

        data, error = read(gather)
        return render_template(
            "maintenance.html",
            page="maintenance",
            severities=SEVERITIES,
            severity=wanted if severities else "",
            messages=data["messages"] if data else [],
            audit=data["audit"] if data else [],
            scanners=data["scanners"] if data else None,
            error=error,
            busy=background.running,
        )

    @app.post("/sync")
    def start_sync() -> Response:
        full = request.form.get("full") == "1"
        started = background.start(full=full)
        return redirect(url_for("sync_settings", started="1" if started else "busy"), code=303)

    @app.get("/api/status")
    def api_status() -> Response:
        data, error = read(lambda engine: sync_view(engine.engine, engine.connection).to_json())
        return jsonify({"sync": data, "error": error, "background": background.state()})

    return app


def serve_command(options: list[str]) -> list[str]:
    """``cmsf`` with ``options`` as a command line for this Python."""
    return [sys.executable, "-m", "cmsf_core.cli", *options]
