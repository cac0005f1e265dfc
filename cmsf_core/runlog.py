"""Structured logs for unattended runs: one JSON object a line (``--log-file``/``CMSF_LOG``).

The runtime and the maintenance log tell the ``cmsf.events`` logger what happens (a run
starts, each job finishes with its API calls and records written, a maintenance message
is raised, the run finishes with its counts); the CLI adds one line per command with its
exit code. :func:`attach` sends those records, as JSON lines, to a file that cron, systemd
or a log shipper can read::

    {"time": "2026-01-05T10:00:03.120Z", "level": "info", "event": "job_finished",
     "run_id": "9f2c...", "job": "subscribers", "status": "completed", ...}

What is written is counts, names of jobs and objects, statuses and support codes. Never a
credential: every secret of the connection is masked wherever it would appear. Never
subscriber data: anything shaped like an email address is replaced by ``<email>``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cmsf_core.errors import ConfigError
from cmsf_core.local_errors import explain

__all__ = ["EVENT_LOGGER", "JsonLinesFormatter", "attach", "detach"]

EVENT_LOGGER = "cmsf.events"
"""The logger every structured event goes to."""

_EMAIL = re.compile(r"[^\s@<>\"',;:()\[\]]+@[^\s@<>\"',;:()\[\]]+\.[A-Za-z]{2,}")
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message"}


class JsonLinesFormatter(logging.Formatter):
    """Formats a record as one JSON line of its event fields, masked.

    Args:
        secrets: Values to mask wherever they appear (credentials of the connection).
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON object on one line."""
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line: dict[str, Any] = {
            "time": stamp.replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "event": getattr(record, "event", None) or record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key != "event" and not key.startswith("_"):
                line[key] = value
        return self._mask(json.dumps(line, default=str, ensure_ascii=False, sort_keys=False))

    def _mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return _EMAIL.sub("<email>", text)


def attach(path: Path, *, secrets: Iterable[str] = ()) -> logging.Handler:
    """Append structured events to ``path`` (created with its folder if needed).

    Args:
        path: The log file.
        secrets: Credentials to mask.

    Returns:
        The handler (give it to :func:`detach` when done).

    Raises:
        ConfigError: If the file cannot be opened for appending.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, mode="a", encoding="utf-8")
    except OSError as exc:
        raise explain(exc, path) or ConfigError(f"cannot write the log {path}: {exc}") from exc
    handler.setFormatter(JsonLinesFormatter(secrets))
    logger = logging.getLogger(EVENT_LOGGER)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(handler)
    return handler


def detach(handler: logging.Handler) -> None:
    """Stop writing to a log attached with :func:`attach` and close it."""
    logging.getLogger(EVENT_LOGGER).removeHandler(handler)
    handler.close()
