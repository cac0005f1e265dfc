"""Processing changed records: what Campaign Monitor should see, and sending only that.

Given a batch of Contacts or Leads (from queue items, or from applying a rule), the
processor reads in one ``composite/batch`` request their current values, the records
merged into them, their list memberships (``CMSF_List_Member__c``, Campaign Monitor as the
primary sync last saw it) and which usable rules they meet now, then decides per record:

- **opted out** (``HasOptedOutOfEmail``, with the email opt in/out option on): every
  address of the person is unsubscribed from the lists of the connected clients where it
  is active (never deleted), and nothing is added;
- **email changed**: each membership under the address Campaign Monitor knew is renamed in
  place (``PUT subscribers/{list}.json?email=old``), keeping its history and state; the
  membership record and its key follow;
- **rules**: a record meeting a rule is added to its list unless that list already has the
  address unsubscribed, bounced or deleted (nobody is ever resubscribed) or the person is
  opted out; one that stops meeting a rule with ``Unsubscribe_When_Not_Met__c`` is
  unsubscribed;
- **mappings**: on lists with mappings or rules, the name and mapped fields of each active
  membership follow the record, converted to the list field's types;
- **merged**: consent is merge-safe: an opt-out on any merged record opts the master out,
  and a list unsubscribed under any merged address is unsubscribed for every address of
  the master; nothing is renamed or resubscribed, every address keeps its state;
- **deleted** (or a converted Lead): Campaign Monitor is left alone (the org itself unlinks a
  deleted record's memberships: the lookups are ``SetNull``; the primary sync's ``relink``
  hands a converted Lead's to its Contact).

Adds and updates go in one import per list (``Resubscribe`` false,
``QueueSubscriptionBasedAutoResponders`` = the "trigger journeys" setting), renames and
unsubscribes one request each. Before each request its actions are written to the
journal as ``sending`` and after it as ``sent`` (:mod:`cmsf_core.push.ledger`); writes
whose data equals what was last sent, or what the membership already shows, are not
sent at all. After a crash, ``sending`` actions are checked against Campaign Monitor
(:func:`settle_in_doubt`) before anything is sent again.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cmsf_core.errors import NotFoundError, PlatformError, SkippableRecordError
from cmsf_core.matching import soql_quote
from cmsf_core.push.mappings import (
    ConversionError,
    consent_value,
    custom_values,
    e164,
    field_value,
)
from cmsf_core.shadow import ShadowRow

if TYPE_CHECKING:
    from cmsf_core.jobs.context import JobContext
    from cmsf_core.push.config import PushConfig
    from cmsf_core.push.ledger import PushLedger

__all__ = ["BatchOutcome", "Processor", "Work", "expectation", "settle_in_doubt", "shows"]

MEMBER = "CMSF_List_Member__c"
LINK = {"Contact": "Contact__c", "Lead": "Lead__c"}
ACTIVE = {"Active", "Unconfirmed"}
INACTIVE = {"Unsubscribed", "Bounced", "Deleted"}
IMPORT_SIZE = 1000
KEPT_CODES = {"204", "205", "206", "207", "208"}
"""Import failures that mean "not re-added: suppressed, deleted, unsubscribed, bounced..."."""
MEMBER_FIELDS = (
    "Id, CM_Id__c, List__c, Email__c, State__c, Name, Custom_Fields__c, Mobile_Number__c, "
    "Consent_To_Track__c, Consent_To_Send_Sms__c, Contact__c, Lead__c"
)
IN_CHUNK = 200


@dataclass
class Work:
    """One record to process.

    Attributes:
        record_id: The Contact or Lead.
        origin: What the actions are for (a queue item, a rule being applied); part of
            each action's key, so the same change is never sent twice.
        item_ids: Queue items this work finishes.
        previous: Tokens of addresses Campaign Monitor knew the record by (None: unknown).
        fields: Salesforce fields that changed (None: all of them, as for a new record;
            empty: none, as when only rules are applied). Existing subscribers get only
            the data of changed fields; new ones get everything.
    """

    record_id: str
    origin: str
    item_ids: list[str] = field(default_factory=list)
    previous: set[str] | None = None
    fields: set[str] | None = field(default_factory=set)


@dataclass
class BatchOutcome:
    """What a batch did, per record, for the queue items and the summary."""

    failed: dict[str, str] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)


@dataclass
class _Row:
    """One subscriber row to import into a list."""

    list_id: str
    list_sf_id: str
    record_id: str
    address: str
    body: dict[str, Any]
    key: str
    memory: tuple[str, str, str]
    tokens: dict[str, str]
    kind: str


@dataclass
class _Single:
    """One rename or unsubscribe request."""

    kind: str
    list_id: str
    list_sf_id: str
    record_id: str
    address: str
    key: str
    body: dict[str, Any] = field(default_factory=dict)
    member: Mapping[str, Any] | None = None


@dataclass
class _Plan:
    rows: list[_Row] = field(default_factory=list)
    singles: list[_Single] = field(default_factory=list)
    memory: dict[tuple[str, str, str], dict[str, str]] = field(default_factory=dict)
    forget_memory: list[tuple[str, str, str]] = field(default_factory=list)
    met: dict[str, set[str]] = field(default_factory=dict)
    gone: list[str] = field(default_factory=list)
    opt_outs: list[str] = field(default_factory=list)
    problems: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


class Processor:
    """Decides and sends the Campaign Monitor writes of batches of one object's records.

    Args:
        ctx: The job context.
        config: The run's rules and mappings.
        ledger: The push's journal tables.
        job: The job name (messages, batch sizes).
    """

    def __init__(self, ctx: JobContext, config: PushConfig, ledger: PushLedger, job: str) -> None:
        self.ctx = ctx
        self.config = config
        self.ledger = ledger
        self.job = job
        self._lists = {lst.sf_id: lst for lst in ctx.directory.lists()}

    # ------------------------------------------------------------------ reading

    def _load(
        self, sobject: str, ids: list[str]
    ) -> tuple[
        dict[str, dict[str, Any]],
        dict[str, list[dict[str, Any]]],
        list[dict[str, Any]],
        dict[str, set[str]],
    ]:
        """Records, their merge losers, memberships and rules met, for ``ids``."""
        records: dict[str, dict[str, Any]] = {}
        losers: dict[str, list[dict[str, Any]]] = defaultdict(list)
        members: list[dict[str, Any]] = []
        met: dict[str, set[str]] = {i: set() for i in ids}
        rules = self.config.usable_rules(sobject)
        fields = ", ".join(["Id", *self.config.fields(sobject)])
        link = LINK[sobject]
        for start in range(0, len(ids), IN_CHUNK):
            chunk = ids[start : start + IN_CHUNK]
            listed = ",".join(soql_quote(i) for i in chunk)
            queries: list[tuple[str, bool]] = [
                (f"SELECT {fields} FROM {sobject} WHERE Id IN ({listed})", True),
                (
                    f"SELECT Id, Email, HasOptedOutOfEmail, MasterRecordId FROM {sobject} "
                    f"WHERE MasterRecordId IN ({listed})",
                    True,
                ),
                (f"SELECT {MEMBER_FIELDS} FROM {MEMBER} WHERE {link} IN ({listed})", False),
            ]
            queries += [
                (f"SELECT Id FROM {sobject} WHERE {rule.where(f'Id IN ({listed})')}", False)
                for rule in rules
            ]
            results = self.ctx.sf.query_batch(queries)
            for row in results[0].records():
                records[str(row["Id"])] = row
            for row in results[1].records():
                losers[str(row["MasterRecordId"])].append(row)
            members.extend(results[2].records())
            for rule, result in zip(rules, results[3:], strict=True):
                if result.error is not None:
                    self.config.rule_broken(
                        rule, f"Salesforce refused its criteria: {result.error}"
                    )
                    continue
                for row in result.records():
                    met.setdefault(str(row["Id"]), set()).add(rule.id)
        self.ctx.stats.read[sobject] += len(records)
        return records, losers, members, met

    # ------------------------------------------------------------------ deciding

    def process(self, sobject: str, works: Sequence[Work]) -> BatchOutcome:
        """Process one batch: decide, send, and record what was done.

        Returns:
            Per-record failures (for queue items) and counts.
        """
        outcome = BatchOutcome()
        settle_in_doubt(self.ctx, self.ledger)  # writes an interrupted batch left in flight
        by_id: dict[str, Work] = {}
        for work in works:
            if work.record_id in by_id:
                known = by_id[work.record_id]
                known.item_ids += work.item_ids
                if work.previous is not None:
                    known.previous = (known.previous or set()) | work.previous
                known.fields = (
                    None
                    if known.fields is None or work.fields is None
                    else known.fields | work.fields
                )
            else:
                by_id[work.record_id] = Work(
                    work.record_id,
                    work.origin,
                    list(work.item_ids),
                    work.previous,
                    None if work.fields is None else set(work.fields),
                )
        ids = list(by_id)
        records, losers, members, met = self._load(sobject, ids)
        masters = {
            str(r["MasterRecordId"])
            for r in records.values()
            if r.get("IsDeleted") and r.get("MasterRecordId")
        }
        missing = sorted(m for m in masters if m not in records)
        if missing:
            more = self._load(sobject, missing)
            records.update(more[0])
            for key, rows in more[1].items():
                losers[key].extend(rows)
            members += more[2]
            met.update(more[3])
            for master in missing:
                by_id[master] = Work(master, by_id[_loser_of(records, master)].origin)
        merged_now = {
            master: [
                r
                for r in records.values()
                if r.get("MasterRecordId") == master and r["Id"] in by_id
            ]
            for master in masters
        }
        plan = _Plan()
        by_record: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for member in members:
            owner = member.get(LINK[sobject])
            if owner:
                by_record[str(owner)].append(member)
        remembered = self.ledger.met(by_id)
        for record_id, work in by_id.items():
            record = records.get(record_id)
            if record is None:
                plan.gone.append(record_id)  # purged from the recycle bin: nothing to do
                continue
            if record.get("IsDeleted") or record.get("IsConverted"):
                plan.gone.append(record_id)  # its lookups are SetNull: the org unlinks them
                continue
            self._decide(
                sobject,
                work,
                record,
                by_record.get(record_id, []),
                losers.get(record_id, []),
                merged_now.get(record_id, []),
                met.get(record_id, set()),
                remembered.get(record_id, set()),
                plan,
            )
        self._execute(sobject, plan, by_id, outcome)
        return outcome

    def _decide(
        self,
        sobject: str,
        work: Work,
        record: Mapping[str, Any],
        members: list[dict[str, Any]],
        losers: list[dict[str, Any]],
        merged_now: list[dict[str, Any]],
        met_now: set[str],
        met_before: set[str],
        plan: _Plan,
    ) -> None:
        ctx = self.ctx
        record_id = str(record["Id"])
        email = str(record.get("Email") or "").strip()
        rules = {r.id: r for r in self.config.usable_rules(sobject)}
        # Rules not usable in this run (invalid for now) keep what was known about them.
        plan.met[record_id] = {r for r in met_now if r in rules} | {
            r for r in met_before if r not in rules
        }
        opted_out = bool(record.get("HasOptedOutOfEmail"))
        merged_opt_out = any(loser.get("HasOptedOutOfEmail") for loser in merged_now)
        if merged_opt_out and ctx.settings.opt_out_sync and not opted_out:
            opted_out = True
            plan.opt_outs.append(record_id)
        if opted_out and ctx.settings.opt_out_sync:
            addresses = {email.lower()} | {str(m.get("Email__c") or "").lower() for m in members}
            addresses |= {str(r.get("Email") or "").lower() for r in merged_now}
            self._unsubscribe_everywhere(work, record_id, sorted(a for a in addresses if a), plan)
            return
        loser_addresses = {str(r.get("Email") or "").strip().lower() for r in losers}
        by_list: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for member in members:
            by_list[str(member.get("List__c"))].append(member)
        # A merge: a list unsubscribed under any merged address is unsubscribed for all.
        if merged_now:
            for list_sf_id, rows in by_list.items():
                if any(m.get("State__c") == "Unsubscribed" for m in rows):
                    for member in rows:
                        if member.get("State__c") in ACTIVE:
                            self._single(work, "unsubscribe", list_sf_id, record_id, member, plan)
                            member["State__c"] = "Unsubscribed"
        # Email changes: rename the subscriber Campaign Monitor knows under the old address.
        if email:
            for member in members:
                old = str(member.get("Email__c") or "").strip()
                if not old or old.lower() == email.lower() or old.lower() in loser_addresses:
                    continue
                if work.previous is not None and self.ledger.email_token(old) not in work.previous:
                    continue
                list_sf_id = str(member.get("List__c"))
                if any(
                    str(m.get("Email__c") or "").lower() == email.lower()
                    for m in by_list[list_sf_id]
                ):
                    self._problem(
                        plan,
                        "CMSF-PUSH-RENAME",
                        record_id,
                        f"list '{self._list_name(list_sf_id)}' already has the new address; "
                        "the old subscriber was left as it is",
                    )
                    continue
                body = {"EmailAddress": email, "ConsentToTrack": "Unchanged"}
                self._single(work, "rename", list_sf_id, record_id, member, plan, body=body)
                member["Email__c"] = email
        # Rules that stopped being met.
        for rule_id in sorted(met_before - met_now):
            rule = rules.get(rule_id)
            if rule is None or not rule.unsubscribe or rule.list_sf_id is None:
                continue
            for member in by_list.get(rule.list_sf_id, []):
                if member.get("State__c") in ACTIVE:
                    self._single(work, "unsubscribe", rule.list_sf_id, record_id, member, plan)
                    member["State__c"] = "Unsubscribed"
            if not by_list.get(rule.list_sf_id) and email:
                key = (record_id, rule.list_sf_id, self.ledger.address_token(email))
                if self.ledger.memory([key]):
                    self._single(
                        work, "unsubscribe", rule.list_sf_id, record_id, {"Email__c": email}, plan
                    )
        # Adds (full data) and updates (the data of changed fields) on managed lists.
        managed = self.config.managed_lists(sobject)
        adds: dict[str, str] = {}
        for rule_id in sorted(met_now):
            rule = rules.get(rule_id)
            if rule is None or rule.list_sf_id is None:
                continue
            if opted_out:
                ctx.stats.pushed["kept out (opted out)"] += 1
                continue
            if not email:
                self._problem(plan, "CMSF-PUSH-VALUE", record_id, "it has no email address to add")
                continue
            mine = [
                m
                for m in by_list.get(rule.list_sf_id, [])
                if str(m.get("Email__c") or "").lower() == email.lower()
            ]
            if any(m.get("State__c") in INACTIVE for m in mine):
                ctx.stats.pushed["kept unsubscribed"] += 1
                continue
            if not mine:
                adds[rule.list_sf_id] = email
        for list_sf_id, address in sorted(adds.items()):
            self._row(work, sobject, record, list_sf_id, address, None, plan, add=True)
        if work.fields is not None and not work.fields:
            return
        for list_sf_id, rows in sorted(by_list.items()):
            if list_sf_id not in managed:
                continue
            for member in rows:
                if member.get("State__c") in ACTIVE and member.get("Email__c"):
                    address = str(member["Email__c"])
                    self._row(work, sobject, record, list_sf_id, address, member, plan)

    def _unsubscribe_everywhere(
        self, work: Work, record_id: str, addresses: list[str], plan: _Plan
    ) -> None:
        """Unsubscribe an opted-out person's addresses wherever they are active."""
        ctx = self.ctx
        for address in addresses:
            for client in ctx.directory.clients():
                try:
                    lists = ctx.cm.lists_for_email(client.cm_id, address)
                except (NotFoundError, SkippableRecordError):
                    continue
                for entry in lists:
                    lst = ctx.directory.list_by_id(str(entry.get("ListID")))
                    if lst is None or entry.get("SubscriberState") not in ACTIVE:
                        continue
                    self._single(
                        work, "unsubscribe", lst.sf_id, record_id, {"Email__c": address}, plan
                    )

    def _single(
        self,
        work: Work,
        kind: str,
        list_sf_id: str,
        record_id: str,
        member: Mapping[str, Any],
        plan: _Plan,
        *,
        body: dict[str, Any] | None = None,
    ) -> None:
        lst = self._lists.get(list_sf_id)
        if lst is None:
            return
        address = str(member.get("Email__c") or "")
        if any(s.kind == kind and s.list_id == lst.cm_id and s.address.lower() == address.lower()
               for s in plan.singles):  # fmt: skip
            return
        payload = self.ledger.digest_token(body or {})
        key = self.ledger.names.token(
            f"action|{work.origin}|{record_id}|{lst.cm_id}|{kind}|{address.lower()}|{payload}"
        )
        plan.singles.append(
            _Single(kind, lst.cm_id, list_sf_id, record_id, address, key, body or {}, member)
        )

    def _parts(
        self,
        sobject: str,
        record: Mapping[str, Any],
        list_sf_id: str,
        only: set[str] | None,
        plan: _Plan,
    ) -> dict[str, Any]:
        """The subscriber data of ``record`` for one list, by part, for changed fields.

        Parts are ``Name``, ``cf:<custom field>`` (its ``CustomFields`` items),
        ``MobileNumber``, ``ConsentToTrack`` and ``ConsentToSendSms``. With ``only`` None
        every part is given; otherwise those whose Salesforce fields are in ``only``.
        """
        record_id = str(record["Id"])
        mappings = self.config.list_mappings(list_sf_id, sobject)
        parts: dict[str, Any] = {}
        if not any(m.target == "Name" for m in mappings) and (
            only is None or only & {"FirstName", "LastName"}
        ):
            parts["Name"] = " ".join(
                str(record.get(f) or "").strip() for f in ("FirstName", "LastName") if record.get(f)
            )
        for mapping in mappings:
            if only is not None and mapping.sf_field not in only:
                continue
            value = field_value(record, mapping.sf_field)
            try:
                if mapping.target == "Name":
                    parts["Name"] = "" if value is None else str(value).strip()
                elif mapping.target == "MobileNumber":
                    parts["MobileNumber"] = e164(value, self.ctx.settings.sms_country)
                elif mapping.target in ("ConsentToTrack", "ConsentToSendSms"):
                    parts[mapping.target] = consent_value(value)
                else:
                    parts[f"cf:{mapping.target.lower()}"] = custom_values(mapping, value)
            except ConversionError as exc:
                code = "CMSF-SMS-INVALID" if mapping.target == "MobileNumber" else "CMSF-PUSH-VALUE"
                self._problem(
                    plan, code, record_id, f"{mapping.sf_field} -> {mapping.target}: {exc}"
                )
        return parts

    def _row(
        self,
        work: Work,
        sobject: str,
        record: Mapping[str, Any],
        list_sf_id: str,
        address: str,
        member: Mapping[str, Any] | None,
        plan: _Plan,
        *,
        add: bool = False,
    ) -> None:
        """Plan the import row of one subscriber: everything for an add, else what changed."""
        lst = self._lists.get(list_sf_id)
        if lst is None:
            return
        record_id = str(record["Id"])
        memory_key = (record_id, list_sf_id, self.ledger.address_token(address))
        remembered = self.ledger.memory([memory_key]).get(memory_key)
        parts = self._parts(sobject, record, list_sf_id, None if add else work.fields, plan)
        tokens = {k: self.ledger.digest_token(v) for k, v in parts.items()}
        if remembered is not None and add:
            add = False  # added before (the membership is not in Salesforce yet)
        mirror = _mirror(member) if member is not None else {}
        send = {
            k: v
            for k, v in parts.items()
            if add or ((remembered or {}).get(k) != tokens[k] and not _same(k, v, mirror, address))
        }
        if not send:
            plan.memory[memory_key] = {**(remembered or {}), **tokens}
            return
        body = _body(address, send)
        key = self.ledger.names.token(
            f"action|{work.origin}|{record_id}|{lst.cm_id}|import|{address.lower()}|"
            + self.ledger.digest_token(body)
        )
        plan.rows.append(
            _Row(
                lst.cm_id,
                list_sf_id,
                record_id,
                address,
                body,
                key,
                memory_key,
                {**(remembered or {}), **tokens},
                "add" if add else "update",
            )
        )

    def _problem(self, plan: _Plan, code: str, record_id: str, text: str) -> None:
        plan.problems.setdefault(code, []).append((record_id, text))

    def _list_name(self, list_sf_id: str) -> str:
        lst = self._lists.get(list_sf_id)
        return lst.name if lst else list_sf_id

    # ------------------------------------------------------------------ sending

    def _execute(
        self, sobject: str, plan: _Plan, works: Mapping[str, Work], outcome: BatchOutcome
    ) -> None:
        ctx = self.ctx
        failed: dict[str, str] = {}
        states = self.ledger.action_states(
            [r.key for r in plan.rows] + [s.key for s in plan.singles]
        )
        for single in [s for s in plan.singles if s.kind == "rename"]:
            self._send_single(single, states, plan)
        by_list: dict[str, list[_Row]] = defaultdict(list)
        for row in plan.rows:
            by_list[row.list_id].append(row)
        for list_id, rows in sorted(by_list.items()):
            for start in range(0, len(rows), IMPORT_SIZE):
                self._send_import(list_id, rows[start : start + IMPORT_SIZE], states, plan)
        for single in [s for s in plan.singles if s.kind == "unsubscribe"]:
            self._send_single(single, states, plan)
        # Salesforce follows a merge: an opt-out on a merged record opts the master out.
        if plan.opt_outs:
            result = ctx.sf.update(
                sobject, [{"Id": i, "HasOptedOutOfEmail": True} for i in plan.opt_outs]
            )
            ctx.stats.wrote(sobject, result.ids)
            self.ledger.note_engine_write(
                sobject,
                {
                    i: {"HasOptedOutOfEmail": True}
                    for i, sf_id in zip(plan.opt_outs, result.ids, strict=True)
                    if sf_id
                },
            )
            for failure in result.failures:
                failed[plan.opt_outs[failure.index]] = f"opt-out refused: {failure.code}"
        self._report(plan)
        for code, entries in plan.problems.items():
            for record_id, text in entries:
                if code != "CMSF-PUSH-KEPT":
                    failed.setdefault(record_id, f"{code}: {text}")
        with self.ledger.journal.transaction():
            self.ledger.remember(plan.memory)
            self.ledger.forget_memory(plan.forget_memory)
            self.ledger.set_met(plan.met)
            self.ledger.forget_records(plan.gone)
        for record_id, reason in failed.items():
            for item_id in works.get(record_id, Work(record_id, "")).item_ids:
                outcome.failed[item_id] = reason
        outcome.keys = [r.key for r in plan.rows] + [s.key for s in plan.singles]
        ctx.stats.pushed["records processed"] += len(works)

    def _send_import(
        self,
        list_id: str,
        rows: list[_Row],
        states: Mapping[str, str],
        plan: _Plan,
    ) -> None:
        ctx = self.ctx
        todo = [r for r in rows if states.get(r.key) != "sent"]
        for row in rows:
            if states.get(row.key) == "sent":
                plan.memory[row.memory] = row.tokens
        if not todo:
            return
        self.ledger.mark_sending(
            {
                r.key: {
                    "kind": "import",
                    "list": list_id,
                    "address": r.address,
                    "expect": expectation(r.body),
                }
                for r in todo
            }
        )
        try:
            result = ctx.cm.import_subscribers(
                list_id,
                [{k: v for k, v in r.body.items()} for r in todo],
                resubscribe=False,
                queue_autoresponders=ctx.settings.trigger_journeys,
            )
        except (NotFoundError, SkippableRecordError, PlatformError) as exc:
            self.ledger.mark_sent([r.key for r in todo])
            for row in todo:
                self._problem(plan, "CMSF-PUSH-REFUSED", row.record_id, str(exc))
            return
        self.ledger.mark_sent([r.key for r in todo])
        refused = {
            str(f.get("EmailAddress") or "").lower(): f for f in result.get("FailureDetails") or []
        }
        for row in todo:
            failure = refused.get(row.address.lower())
            if failure is None:
                plan.memory[row.memory] = row.tokens
                ctx.stats.pushed["added" if row.kind == "add" else "updated"] += 1
                continue
            code = str(failure.get("Code"))
            if code in KEPT_CODES:
                ctx.stats.pushed["kept unsubscribed"] += 1
                plan.memory[row.memory] = row.tokens
                continue
            ctx.stats.pushed["refused"] += 1
            self._problem(
                plan,
                "CMSF-PUSH-REFUSED",
                row.record_id,
                f"list '{self._list_name(row.list_sf_id)}': Code {code} {failure.get('Message', '')}",
            )

    def _send_single(
        self,
        single: _Single,
        states: Mapping[str, str],
        plan: _Plan,
    ) -> None:
        ctx = self.ctx
        new = str(single.body.get("EmailAddress") or "")
        done = states.get(single.key) == "sent"
        if not done:
            expect = {"address": new} if single.kind == "rename" else {"state": "Unsubscribed"}
            self.ledger.mark_sending(
                {
                    single.key: {
                        "kind": single.kind,
                        "list": single.list_id,
                        "address": single.address,
                        "expect": expect,
                    }
                }
            )
            try:
                if single.kind == "rename":
                    ctx.cm.update_subscriber(single.list_id, single.address, single.body)
                else:
                    ctx.cm.unsubscribe(single.list_id, single.address)
            except (NotFoundError, SkippableRecordError, PlatformError) as exc:
                self.ledger.mark_sent([single.key])
                ctx.stats.pushed["refused"] += 1
                code = "CMSF-PUSH-RENAME" if single.kind == "rename" else "CMSF-PUSH-REFUSED"
                self._problem(
                    plan,
                    code,
                    single.record_id,
                    f"list '{self._list_name(single.list_sf_id)}': {single.kind} refused: "
                    f"{exc.error_code or ''} {exc}".strip(),
                )
                return
            self.ledger.mark_sent([single.key])
            ctx.stats.pushed["renamed" if single.kind == "rename" else "unsubscribed"] += 1
        old_token = self.ledger.address_token(single.address)
        if single.kind == "unsubscribe":
            plan.forget_memory.append((single.record_id, single.list_sf_id, old_token))
            return
        plan.forget_memory.append((single.record_id, single.list_sf_id, old_token))
        member = single.member or {}
        if member.get("Id"):
            self._follow_rename(single, member, new)

    def _follow_rename(self, single: _Single, member: Mapping[str, Any], new: str) -> None:
        """The membership record (and the primary sync's shadow of it) follow a rename."""
        from cmsf_core.jobs.subscribers import membership_key  # the jobs package imports us

        ctx = self.ctx
        old_key = membership_key(single.list_id, single.address)
        new_key = membership_key(single.list_id, new)
        update = {"Id": member["Id"], "Email__c": new, "CM_Id__c": new_key}
        name = str(single.body.get("Name") or "")
        update["Name"] = (name or new)[:80]
        result = ctx.sf.update(MEMBER, [update])
        ctx.stats.wrote(MEMBER, result.ids)
        if result.ids and result.ids[0]:
            ctx.shadow.forget(MEMBER, [old_key])
            ctx.shadow.record(MEMBER, [ShadowRow(new_key, str(member["Id"]), "", "")])

    def _report(self, plan: _Plan) -> None:
        titles = {
            "CMSF-PUSH-REFUSED": "Campaign Monitor refused data of {n} record(s)",
            "CMSF-PUSH-VALUE": "{n} record(s) have values that do not fit Campaign Monitor",
            "CMSF-SMS-INVALID": "{n} record(s) have mobile numbers that are not valid",
            "CMSF-PUSH-RENAME": "{n} email change(s) could not be applied in Campaign Monitor",
        }
        for code, entries in sorted(plan.problems.items()):
            records = sorted({r for r, _ in entries})
            lines = [f"- {record_id}: {text}" for record_id, text in entries[:20]]
            if len(entries) > 20:
                lines.append(f"... and {len(entries) - 20} more")
            self.ctx.log.raise_message(
                "Warning",
                self.job,
                code,
                titles.get(code, "{n} record(s) could not be pushed").format(n=len(records)),
                "\n".join(lines),
            )


def _loser_of(records: Mapping[str, Mapping[str, Any]], master: str) -> str:
    return next(str(r["Id"]) for r in records.values() if r.get("MasterRecordId") == master)


def expectation(body: Mapping[str, Any]) -> dict[str, Any]:
    """What a subscriber must show for an import of ``body`` to count as done."""
    fields: dict[str, list[str]] = defaultdict(list)
    for item in body.get("CustomFields") or []:
        if not item.get("Clear"):
            fields[str(item["Key"]).lower()].append(str(item["Value"]))
    expect: dict[str, Any] = {"fields": dict(fields)}
    if "Name" in body:
        expect["name"] = body["Name"] or ""
    return expect


def _body(address: str, parts: Mapping[str, Any]) -> dict[str, Any]:
    """A Campaign Monitor subscriber body from data parts (see :meth:`Processor._parts`)."""
    body: dict[str, Any] = {
        "EmailAddress": address,
        "ConsentToTrack": parts.get("ConsentToTrack", "Unchanged"),
    }
    if "Name" in parts:
        body["Name"] = parts["Name"]
    custom = [item for key, items in parts.items() if key.startswith("cf:") for item in items]
    if custom:
        body["CustomFields"] = custom
    for key in ("MobileNumber", "ConsentToSendSms"):
        if key in parts:
            body[key] = parts[key]
    return body


def _mirror(member: Mapping[str, Any]) -> dict[str, Any]:
    """What a membership record shows of Campaign Monitor's data, by part."""
    try:
        stored = json.loads(member.get("Custom_Fields__c") or "{}")
    except json.JSONDecodeError:
        stored = {}
    out: dict[str, Any] = {
        "Name": str(member.get("Name") or ""),
        "MobileNumber": member.get("Mobile_Number__c") or "",
        "ConsentToTrack": member.get("Consent_To_Track__c"),
        "ConsentToSendSms": member.get("Consent_To_Send_Sms__c"),
    }
    for key, value in stored.items() if isinstance(stored, dict) else []:
        values = value if isinstance(value, list) else [value]
        out[f"cf:{str(key).lower()}"] = sorted(str(v) for v in values if v not in (None, ""))
    return out


def _same(part: str, value: Any, mirror: Mapping[str, Any], address: str) -> bool:
    """Whether the membership already shows ``value`` for ``part`` (nothing to send)."""
    if not mirror:
        return False
    if part == "Name":
        return bool(mirror["Name"] == (str(value) or address)[:80])
    if part.startswith("cf:"):
        wanted = sorted(str(i["Value"]) for i in value if not i.get("Clear"))
        return bool(mirror.get(part, []) == wanted)
    if part in ("ConsentToTrack", "ConsentToSendSms") and value == "Unchanged":
        return True
    return bool(mirror.get(part) == value)


def settle_in_doubt(ctx: JobContext, ledger: PushLedger) -> int:
    """Check writes an interrupted run left ``sending`` against Campaign Monitor.

    A write that shows (the subscriber has the data, is unsubscribed, or exists under
    the new address) is marked ``sent``, so it is not sent again; any other is forgotten,
    so the batch sends it when it is processed again.

    Returns:
        How many were found done.
    """
    done: list[str] = []
    forgotten: list[str] = []
    for action in ledger.sending():
        locator = action.locator
        kind, list_id = str(locator.get("kind")), str(locator.get("list"))
        expect = locator.get("expect") or {}
        address = str(expect.get("address") or locator.get("address") or "")
        try:
            found = ctx.cm.subscriber(list_id, address)
        except (NotFoundError, SkippableRecordError, PlatformError):
            found = {}
        if found and shows(kind, found, expect):
            done.append(action.key)
        else:
            forgotten.append(action.key)
    ledger.mark_sent(done)
    ledger.forget_actions(forgotten)
    return len(done)


def shows(kind: str, found: Mapping[str, Any], expect: Mapping[str, Any]) -> bool:
    """Whether a subscriber as Campaign Monitor shows it (``found``) carries a write of
    ``kind`` (``import``, ``rename``, ``unsubscribe``) with the :func:`expectation`."""
    if kind == "unsubscribe":
        return found.get("State") == "Unsubscribed"
    if kind == "rename":
        return True
    if "name" in expect and str(found.get("Name") or "") != str(expect["name"]):
        return False
    have: dict[str, list[str]] = defaultdict(list)
    for item in found.get("CustomFields") or []:
        have[str(item.get("Key", "")).strip("[]").lower()].append(str(item.get("Value")))
    wanted: Mapping[str, Iterable[str]] = expect.get("fields") or {}
    return all(sorted(have.get(k, [])) == sorted(v) for k, v in wanted.items())
