"""Local file trouble as one clear line and a fix, never a traceback.

``cmsf`` keeps its journal, the embedded simulators and its log in local files. When the
machine refuses one of them (a read-only folder, a full disk, a file another program
holds locked, a path that is not what it should be) :func:`explain` turns the operating
system's or SQLite's error into a :class:`~cmsf_core.errors.ConfigError` that names the
file and says what to do, so every command ends with one line and the configuration
exit code.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from cmsf_core.errors import ConfigError

__all__ = ["explain"]

_READ_ONLY = (errno.EACCES, errno.EPERM, errno.EROFS)
_FULL = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


def _kind(exc: BaseException) -> str | None:
    """Classify an error: read_only, full, locked, not_sqlite, is_dir, not_dir, missing."""
    if isinstance(exc, sqlite3.Error):
        text = str(exc).lower()
        if "readonly" in text or "read-only" in text or "unable to open" in text:
            return "read_only"
        if "disk is full" in text or "disk i/o error" in text:
            return "full"
        if "locked" in text or "busy" in text:
            return "locked"
        if "not a database" in text or "malformed" in text or "file is encrypted" in text:
            return "not_sqlite"
        return None
    if isinstance(exc, IsADirectoryError):
        return "is_dir"
    if isinstance(exc, NotADirectoryError | FileExistsError):
        return "not_dir"
    if isinstance(exc, FileNotFoundError):
        return "missing"
    if isinstance(exc, PermissionError):
        return "read_only"
    if isinstance(exc, OSError):
        if exc.errno in _READ_ONLY:
            return "read_only"
        if exc.errno in _FULL:
            return "full"
    return None


def explain(exc: BaseException, path: Path | str | None = None) -> ConfigError | None:
    """The one-line explanation of a local file error, or None if it is not one.

    Args:
        exc: The error an ``open``, ``mkdir`` or SQLite call raised.
        path: The file or folder being used (the error's own file name wins).

    Returns:
        A ``ConfigError`` naming the file and the fix, or None for other errors.
    """
    kind = _kind(exc)
    if kind is None:
        return None
    named = getattr(exc, "filename", None) or path
    where = f"{named}" if named else "a local file"
    messages = {
        "read_only": (
            f"cannot write {where}: the folder or file is read-only or not yours; run cmsf "
            "where it may write, or point --home (or --journal, --log-file) at a writable folder"
        ),
        "full": (
            f"cannot write {where}: the disk is full (or a file size limit was reached); free "
            "some space, or point --home at another disk"
        ),
        "locked": (
            f"{where} is locked by another program (another cmsf run?); wait for it to "
            "finish and try again"
        ),
        "not_sqlite": (
            f"{where} is not a cmsf SQLite file (wrong file, or damaged); check the path, "
            "or move it away to start afresh"
        ),
        "is_dir": f"{where} is a folder, but a file is needed there; give a file path",
        "not_dir": (
            f"{where}: a file is in the way where a folder is needed; give --home a folder path"
        ),
        "missing": f"{where} does not exist; check the path",
    }
    return ConfigError(messages[kind])
