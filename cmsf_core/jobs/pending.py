"""Refused writes, kept until written: the keys Salesforce refused and how to find them again.

A record Salesforce refuses (a row lock that outlasted the retries, a validation rule, a
trigger's error, a field the sync user may not edit) must still reach the org once the
cause is gone. Bookmarks move on past it (one stubborn record must not make every later
run re-read everything), so the job remembers the refusal here: a non-personal token of
the record's key, its scope (the list or campaign it belongs to), a *locator* (what the
job needs to fetch it again: an address is sealed under the connection key, see
:mod:`cmsf_core.pseudonyms`), the source version and the error code. Every run, each job
that writes through this mechanism retries what is waiting before it finishes; a write
that succeeds, in the retry or in the ordinary flow, clears its entry. The runtime raises
one ``CMSF-REC-PENDING`` message per run while anything waits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cmsf_core.pseudonyms import scope_of

if TYPE_CHECKING:
    from cmsf_core.jobs.context import JobContext

__all__ = ["Pending", "refused", "resolved", "waiting"]


@dataclass(frozen=True)
class Pending:
    """One refused write waiting for a retry.

    Attributes:
        token: The pseudonym of the record's key.
        scope: The list, campaign or object it belongs to.
        locator: What finds it again (unsealed), or None if sealed under another key.
        version: The source version it was refused at.
        code: The platform's error code of the last refusal.
        attempts: How many times it was refused.
    """

    token: str
    scope: str
    locator: str | None
    version: str
    code: str
    attempts: int


def _tokens(ctx: JobContext, job: str) -> set[str]:
    """The tokens waiting for ``job`` (cached for the run; kept current by this module)."""
    cache: dict[str, set[str]] = ctx.extras.setdefault("pending_tokens", {})
    if job not in cache:
        cache[job] = {row["token"] for row in ctx.journal.pending(job)}
    return cache[job]


def refused(
    ctx: JobContext,
    job: str,
    entries: Iterable[tuple[str, str, str, str]],
    *,
    scope: str | None = None,
) -> None:
    """Remember refused records: ``(key, locator, version, code)`` each.

    Args:
        ctx: The job context.
        job: The job that retries them.
        entries: The record's key (may hold an address: only its token is kept), what
            finds it again (sealed), its source version, and the error code.
        scope: The scope to file them under (default: the key's ``<id>:`` prefix).
    """
    rows = [
        {
            "token": ctx.shadow.token(key),
            "scope": scope if scope is not None else scope_of(key),
            "locator": ctx.shadow.names.seal(locator),
            "version": version,
            "code": code,
        }
        for key, locator, version, code in entries
    ]
    if rows:
        ctx.journal.add_pending(job, rows, ctx.clock.now())
        _tokens(ctx, job).update(r["token"] for r in rows)


def resolved(ctx: JobContext, job: str, keys: Iterable[str]) -> None:
    """Forget refusals of records now written (or no longer wanted)."""
    waiting_now = _tokens(ctx, job)
    if not waiting_now:
        return
    done = [t for t in (ctx.shadow.token(k) for k in keys) if t in waiting_now]
    if done:
        ctx.journal.remove_pending(job, done)
        waiting_now.difference_update(done)


def waiting(ctx: JobContext, job: str, scope: str | None = None) -> list[Pending]:
    """The refused records ``job`` must retry (of one scope), oldest version first."""
    return [
        Pending(
            token=row["token"],
            scope=row["scope"],
            locator=ctx.shadow.names.unseal(row["locator"]) if row["locator"] else None,
            version=row["version"] or "",
            code=row["code"] or "",
            attempts=int(row["attempts"] or 0),
        )
        for row in ctx.journal.pending(job, scope)
    ]
