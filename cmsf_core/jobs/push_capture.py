"""Change capture: Contacts and Leads changed in Salesforce become record-change queue items.

The first job of the Salesforce -> Campaign Monitor direction (the product's triggers,
without Apex in the org). One ``composite/batch`` request reads the rules, the mappings,
the lists and how many Contacts, Leads (and, with the account-trigger option, Accounts)
changed in this run's window; a quiet run ends there. For an object with changes, the
window is read page by page (``queryAll``: deletes and merges too) together with which
applied rules the changed records meet, and each record whose push-relevant fields or
rules changed becomes a ``CMSF_Queue_Item__c`` (see :mod:`cmsf_core.push.capture` for what
counts as a change and :mod:`cmsf_core.push.queue` for the items).

The first capture of an object reads every record once to learn its baseline: nothing
that happened before the integration watched is pushed, except what rules select (the
``subscriber_rules`` job applies each new rule to every matching record).

Switches: ``disable_triggers`` stops the capture (its windows still move, so what
changes meanwhile is never pushed); ``disable_bulk_triggers`` queues only the first
record of each bulk change (:func:`cmsf_core.push.capture.bulk_followers`);
``account_triggers`` makes Account changes re-evaluate their Contacts against rules that
use Account fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from cmsf_core.clock import parse_instant
from cmsf_core.errors import AccessError
from cmsf_core.jobs.base import Job, Scope, register
from cmsf_core.matching import soql_quote
from cmsf_core.push.capture import (
    bulk_followers,
    capture_config,
    changed,
    ledger_for,
    soql_instant,
    tokens_of,
    window_bounds,
)
from cmsf_core.push.config import PushConfig, config_queries, load_config
from cmsf_core.push.queue import QUEUE_ITEM, RECORD_CHANGE, enqueue
from cmsf_core.push.rules import Rule, uses_account

__all__ = ["ChangeCaptureJob"]

OBJECTS = ("Contact", "Lead")
PENDING_KEY = "push_pending"


@register
class ChangeCaptureJob(Job):
    """Queue the Contacts and Leads that changed since the last window."""

    name = "change_capture"
    title = "Salesforce changes"
    limit = "push"
    follows = ("subscriber_rules",)
    _refused = 0

    def start(self) -> Iterable[Scope]:
        ctx = self.ctx
        ledger = ledger_for(ctx)
        end = ctx.signpost.isoformat()
        starts = {obj: ledger.window_start(obj) for obj in (*OBJECTS, "Account")}
        if ctx.settings.disable_triggers:
            for obj, start in starts.items():
                if start is not None:
                    ledger.set_window_start(obj, end)  # never pushed: triggers are off
            return []
        queries = config_queries()
        counted: list[str] = []
        for obj in (*OBJECTS, "Account"):
            start = starts[obj]
            if start is None or (obj == "Account" and not ctx.settings.account_triggers):
                continue
            low, high = window_bounds(start, ctx.signpost)
            queries.append(
                (
                    f"SELECT COUNT() FROM {obj} WHERE SystemModstamp >= {low} "
                    f"AND SystemModstamp < {high}",
                    obj != "Account",
                )
            )
            counted.append(obj)
        queries.append(
            (
                f"SELECT COUNT() FROM {QUEUE_ITEM} WHERE Status__c = 'Pending' "
                f"AND Type__c = '{RECORD_CHANGE}'",
                False,
            )
        )
        results = ctx.sf.query_batch(queries)
        config = load_config(ctx, *(list(r.records()) for r in results[:3]))
        counts = {obj: results[3 + i].total for i, obj in enumerate(counted)}
        for i, obj in enumerate(counted):
            error = results[3 + i].error
            if isinstance(error, AccessError) and error.field_name is None and obj == "Lead":
                # a platform license: its window stays where it is until Leads are readable
                ctx.sf.access.skip(obj, "capturing Lead changes for Campaign Monitor")
        ctx.extras[PENDING_KEY] = results[-1].total
        accounts = bool(counts.get("Account")) and uses_account(_applied(ctx, config, "Contact"))
        scopes: list[dict[str, Any]] = []
        for obj in OBJECTS:
            if not ctx.sf.access.usable(obj):
                continue
            if starts[obj] is None:
                scopes.append({"key": f"init:{obj}", "object": obj, "mode": "init"})
                continue
            known = ledger.known_fields(obj)
            fresh = sorted(set(config.fields(obj)) - known) if known is not None else []
            if fresh:  # newly mapped fields: learn them for the records outside the window
                scopes.append({"key": f"rebase:{obj}", "object": obj, "mode": "rebase"})
            elif known is None:
                ledger.set_known_fields(obj, config.fields(obj))
            if counts.get(obj) or (obj == "Contact" and accounts):
                scopes.append(
                    {"key": f"window:{obj}", "object": obj, "mode": "window", "accounts": accounts}
                )
            else:
                ledger.set_window_start(obj, end)
        if not accounts:
            ledger.set_window_start("Account", end)
        return scopes

    def execute(self, scope: Scope) -> None:
        sobject = str(scope["object"])
        if sobject == "Lead":  # a platform license has no Leads: skipped, caught up later
            self.ctx.sf.access.guard(
                "Lead",
                "capturing Lead changes for Campaign Monitor",
                lambda: self._capture(scope),
                None,
            )
        else:
            self._capture(scope)

    def _capture(self, scope: Scope) -> None:
        ctx = self.ctx
        ledger = ledger_for(ctx)
        config = capture_config(ctx)
        sobject = str(scope["object"])
        fields = config.fields(sobject)
        select = ", ".join(["Id", "SystemModstamp", "LastModifiedById", *fields])
        end = ctx.signpost.isoformat()
        if scope["mode"] == "init":
            for page in ctx.sf.query_pages(f"SELECT {select} FROM {sobject}"):
                ctx.stats.read[sobject] += len(page)
                ledger.save_baselines(
                    sobject, {str(r["Id"]): tokens_of(ledger, r, fields) for r in page}
                )
            ledger.set_known_fields(sobject, fields)
            ledger.set_window_start(sobject, end)
            return
        start = ledger.window_start(sobject) or end
        low, high = window_bounds(start, ctx.signpost)
        if scope["mode"] == "rebase":
            # Records not saved in this window hold values from before the mapping: known.
            fresh = sorted(set(fields) - (ledger.known_fields(sobject) or set()))
            soql = f"SELECT Id, {', '.join(fresh)} FROM {sobject} WHERE SystemModstamp < {low}"
            for page in ctx.sf.query_pages(soql):
                ctx.stats.read[sobject] += len(page)
                ledger.add_to_baselines({str(r["Id"]): tokens_of(ledger, r, fresh) for r in page})
            ledger.set_known_fields(sobject, fields)
            return
        window = f"SystemModstamp >= {low} AND SystemModstamp < {high}"
        account_window = None
        if scope.get("accounts"):
            a_low, a_high = window_bounds(ledger.window_start("Account") or start, ctx.signpost)
            account_window = f"SystemModstamp >= {a_low} AND SystemModstamp < {a_high}"
        rules = _applied(ctx, config, sobject)
        matches = self._matches(sobject, rules, config, window, account_window)
        pages = ctx.sf.query_pages(
            f"SELECT {select} FROM {sobject} WHERE {window} ORDER BY SystemModstamp, Id",
            include_deleted=True,
        )
        seen: set[str] = set()
        self._refused = 0
        carry: list[dict[str, Any]] = []
        for page in pages:
            ctx.stats.read[sobject] += len(page)
            rows = carry + page
            last = (
                (rows[-1].get("SystemModstamp"), rows[-1].get("LastModifiedById")) if rows else None
            )
            cut = len(rows)
            while (
                cut > 0
                and (rows[cut - 1].get("SystemModstamp"), rows[cut - 1].get("LastModifiedById"))
                == last
            ):
                cut -= 1
            self._changes(sobject, rows[:cut], fields, matches, rules, seen)
            carry = rows[cut:]
        self._changes(sobject, carry, fields, matches, rules, seen)
        if account_window is not None:
            for page in self._account_contacts(select, account_window):
                unseen = [r for r in page if str(r["Id"]) not in seen]
                ctx.stats.read[sobject] += len(unseen)
                self._changes(sobject, unseen, fields, matches, rules, seen, bulk=False)
            if not self._refused:
                ledger.set_window_start("Account", end)
        if not self._refused:
            ledger.set_window_start(sobject, end)

    # ------------------------------------------------------------------ helpers

    def _matches(
        self,
        sobject: str,
        rules: list[Rule],
        config: PushConfig,
        window: str,
        account_window: str | None,
    ) -> dict[str, set[str]]:
        """Which applied rules each changed record meets (by record Id)."""
        queries: list[tuple[str, bool]] = []
        asked: list[Rule] = []
        for rule in rules:
            queries.append((f"SELECT Id FROM {sobject} WHERE {rule.where(window)}", False))
            asked.append(rule)
            if account_window is not None:
                accounts = f"AccountId IN (SELECT Id FROM Account WHERE {account_window})"
                queries.append((f"SELECT Id FROM {sobject} WHERE {rule.where(accounts)}", False))
                asked.append(rule)
        found: dict[str, set[str]] = {}
        if not queries:
            return found
        for rule, result in zip(asked, self.ctx.sf.query_batch(queries), strict=True):
            if result.error is not None:
                config.rule_broken(rule, f"Salesforce refused its criteria: {result.error}")
                continue
            for row in result.records():
                found.setdefault(str(row["Id"]), set()).add(rule.id)
        broken = {r.id for r in config.rules if r.problem}
        return {k: v - broken for k, v in found.items()}

    def _account_contacts(self, select: str, account_window: str) -> Iterator[list[dict[str, Any]]]:
        """Contacts of Accounts changed in the window (the first of each bulk change only,
        when bulk triggers are disabled)."""
        ctx = self.ctx
        accounts = [
            row
            for page in ctx.sf.query_pages(
                f"SELECT Id, SystemModstamp, LastModifiedById FROM Account WHERE {account_window}"
            )
            for row in page
        ]
        skipped = bulk_followers(accounts) if ctx.settings.disable_bulk_triggers else set()
        ids = [str(a["Id"]) for a in accounts if str(a["Id"]) not in skipped]
        for start in range(0, len(ids), 200):
            listed = ",".join(soql_quote(i) for i in ids[start : start + 200])
            yield from ctx.sf.query_pages(
                f"SELECT {select} FROM Contact WHERE AccountId IN ({listed})"
            )

    def _changes(
        self,
        sobject: str,
        rows: list[dict[str, Any]],
        fields: list[str],
        matches: Mapping[str, set[str]],
        rules: list[Rule],
        seen: set[str],
        *,
        bulk: bool = True,
    ) -> None:
        """Queue the records of ``rows`` that changed; remember what was seen."""
        ctx = self.ctx
        rows = [r for r in rows if str(r["Id"]) not in seen]
        if not rows:
            return
        ledger = ledger_for(ctx)
        # the primary sync links a merged-away address to its master (cmsf_core.matching)
        ctx.matcher.remember_merges(
            (sobject, str(r["Id"]), str(r.get("Email") or ""), str(r["MasterRecordId"]))
            for r in rows
            if r.get("IsDeleted") and r.get("MasterRecordId")
        )
        applied = {r.id for r in rules}
        ids = [str(r["Id"]) for r in rows]
        seen.update(ids)
        baselines = ledger.baselines(ids)
        met_before = ledger.met(ids)
        since = capture_config(ctx).mapped_since(sobject)
        followers = bulk_followers(rows) if bulk and ctx.settings.disable_bulk_triggers else set()
        stamp = soql_instant(ctx.signpost)
        items: list[dict[str, Any]] = []
        tokens_by_id: dict[str, dict[str, str]] = {}
        for row in rows:
            record_id = str(row["Id"])
            tokens = tokens_of(ledger, row, fields)
            tokens_by_id[record_id] = tokens
            base = baselines.get(record_id)
            met_now = set() if row.get("IsDeleted") else set(matches.get(record_id, set()))
            diff = changed(
                base.fields if base else None,
                base.complete if base else False,
                tokens,
                met_now & applied,
                met_before.get(record_id, set()) & applied,
                modified=_stamp(row.get("SystemModstamp")),
                mapped_since=since,
            )
            if not diff:
                continue
            if record_id in followers:
                ctx.stats.pushed["skipped (bulk change)"] += 1
                continue
            previous = None
            if base is not None and base.fields.get("Email") not in (None, tokens.get("Email")):
                previous = base.fields["Email"]
            items.append(
                {
                    "key": f"{record_id}@{stamp}",
                    "record_id": record_id,
                    "payload": {"object": sobject, "changed": diff, "previous_email": previous},
                }
            )
        refused = enqueue(ctx, self.name, items)
        written = len(items) - len(refused)
        ctx.stats.pushed["changes queued"] += written
        ctx.extras[PENDING_KEY] = int(ctx.extras.get(PENDING_KEY, 0)) + written
        # A change whose item the org refused keeps its old baseline, and the window does
        # not move (see execute): the next run reads it again and queues just that.
        self._refused += len(refused)
        ledger.save_baselines(sobject, {k: v for k, v in tokens_by_id.items() if k not in refused})


def _applied(ctx: Any, config: PushConfig, sobject: str) -> list[Rule]:
    """Usable rules of ``sobject`` already applied to every record (new ones are applied
    by the ``subscriber_rules`` job)."""
    ledger = ledger_for(ctx)
    return [r for r in config.usable_rules(sobject) if ledger.rule_state(r.id)[0] == r.digest]


def _stamp(value: Any) -> datetime | None:
    """A ``SystemModstamp`` as an instant (None when absent or unreadable)."""
    if not value:
        return None
    text = str(value)
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    try:
        return parse_instant(text)
    except ValueError:
        return None
