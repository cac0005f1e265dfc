"""Subscriber rules: a rule created or edited is applied to every existing record.

For each usable rule whose definition (list, object, criteria, unsubscribe flag) was not
applied yet, the job pages through the records that meet it, in Id order, and processes
them in batches of the ``push`` governor limit (:class:`~cmsf_core.push.processor.Processor`):
they are added to the list, or their data is brought up to date. Its progress (the last
Id done) is kept in the journal, so a crash resumes where it stopped. Then it sweeps:
records that met an earlier version of the rule but were not seen now are processed
again, so those that no longer meet it are unsubscribed when the rule says so.

A rule that is deactivated or deleted is forgotten: nobody is unsubscribed for it (Campaign
Monitor data stays safe). A rule whose criteria Salesforce refuses is skipped with a
maintenance message naming it, and applied once it is fixed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from cmsf_core.errors import AccessError, PlatformError
from cmsf_core.jobs.base import Job, Scope, register
from cmsf_core.push.capture import capture_config, ledger_for
from cmsf_core.push.processor import Processor, Work

__all__ = ["SubscriberRulesJob"]


@register
class SubscriberRulesJob(Job):
    """Apply new and edited subscriber rules to every matching record."""

    name = "subscriber_rules"
    title = "Subscriber rules"
    limit = "push"
    follows = ("push",)

    def enabled(self) -> bool:
        return not self.ctx.settings.disable_triggers

    def start(self) -> Iterable[Scope]:
        ctx = self.ctx
        config = capture_config(ctx)
        ledger = ledger_for(ctx)
        by_id = {r.id: r for r in config.rules}
        for rule_id in ledger.known_rules():
            rule = by_id.get(rule_id)
            if rule is None or not rule.active:
                ledger.drop_rule(rule_id)
        scopes = []
        for rule in config.usable_rules():
            applied, _, _ = ledger.rule_state(rule.id)
            if applied != rule.digest:
                scopes.append({"key": f"{rule.id}:{rule.digest}", "rule": rule.id})
        return scopes

    def execute(self, scope: Scope) -> None:
        ctx = self.ctx
        config = capture_config(ctx)
        ledger = ledger_for(ctx)
        rule = next((r for r in config.usable_rules() if r.id == scope["rule"]), None)
        if rule is None or f"{rule.id}:{rule.digest}" != scope["key"]:
            return  # edited, deactivated or found invalid meanwhile: the next run sees it
        applied, pending, cursor = ledger.rule_state(rule.id)
        if pending != rule.digest:
            cursor = None
            ledger.set_rule_state(rule.id, applied=applied, pending=rule.digest, cursor=None)
        processor = Processor(ctx, config, ledger, self.name)
        origin = f"rule:{rule.id}:{rule.digest}"
        size = self.batch_size
        after = f"Id > '{cursor}'" if cursor else "Id != null"
        soql = f"SELECT Id FROM {rule.sobject} WHERE {rule.where(after)} ORDER BY Id"
        try:
            pages = self._first(soql)
        except AccessError as exc:
            if exc.field_name is None and exc.object_name == rule.sobject:
                # the sync user cannot see the object (a platform license has no Leads)
                ctx.sf.access.skip(rule.sobject, f"subscriber rules on {rule.sobject}")
                return
            config.rule_broken(rule, f"Salesforce refused its criteria: {exc}")
            return
        except PlatformError as exc:
            config.rule_broken(rule, f"Salesforce refused its criteria: {exc}")
            return
        for page in pages:
            ids = [str(row["Id"]) for row in page]
            for start in range(0, len(ids), size):
                batch = ids[start : start + size]
                outcome = processor.process(rule.sobject, [Work(i, origin) for i in batch])
                if not config.usable(rule.id):
                    return  # Salesforce refused the criteria: reported, retried next run
                ledger.mark_met(rule.id, batch, rule.digest)
                ledger.set_rule_state(
                    rule.id, applied=applied, pending=rule.digest, cursor=batch[-1]
                )
                ledger.forget_actions(outcome.keys)
        # Records that met an earlier version and were not seen now: evaluate them again.
        # Each pass marks or drops every record it gets, so the loop ends.
        while left := ledger.unmarked(rule.id, rule.digest, size):
            outcome = processor.process(rule.sobject, [Work(i, f"{origin}:sweep") for i in left])
            if not config.usable(rule.id):
                return
            still = ledger.met(left)
            ledger.mark_met(rule.id, [i for i in left if rule.id in still[i]], rule.digest)
            ledger.forget_actions(outcome.keys)
        ledger.set_rule_state(rule.id, applied=rule.digest, pending=None, cursor=None)
        ctx.stats.pushed["rules applied"] += 1

    def _first(self, soql: str) -> Iterator[list[dict[str, Any]]]:
        """The pages of ``soql``: the first read now (a refused query fails here), the
        others as they are needed."""
        pages = self.ctx.sf.query_pages(soql)
        first = next(pages, None)
        if first is None:
            return iter(())
        return itertools.chain([first], pages)
