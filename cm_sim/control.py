"""The scenario- and test-facing control API, apart from the emulated HTTP API.

Everything a scenario does to the account that no API client could: create data at a
past or future moment, move subscribers between states at a time, send a campaign with
generated activity, hide or tag campaigns, register link scanners, switch behaviour
models, inject faults, set the rate limit, expire OAuth tokens, read the request log
and compare snapshots. Methods are named after what a user (or the platform) does.
Times (``at``) are aware datetimes or ISO strings; ``None`` means "now" on the clock.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from cm_sim.behaviour import ActivityModel, LinkScanner, plan_link_unsubscribe
from cm_sim.exceptions import ControlError
from cm_sim.faults import Fault, RateLimiter
from cm_sim.models_auth import AuthMixin
from cm_sim.models_state import STATES
from cm_sim.times import to_epoch
from cm_sim.validation import apply_custom_fields, is_email
from cmsf_core.clock import parse_instant

__all__ = ["ControlMixin"]


class ControlMixin(AuthMixin):
    """Scenario-facing operations on the account."""

    faults: list[Fault]
    rate_limiter: RateLimiter | None
    tx_rate_limiter: RateLimiter | None
    _log: list[dict[str, Any]]

    def _at(self, at: datetime | str | None) -> int:
        return self.now_ts() if at is None else to_epoch(parse_instant(at))

    def _list_email(self, list_id: str, email: str) -> tuple[dict[str, Any], str]:
        lst = self.list_row(list_id)
        if not is_email(email):
            raise ControlError(f"not an e-mail address: {email!r}")
        return lst, email.strip().lower()

    # -- data at a moment ---------------------------------------------------------------
    def add_subscriber_at(
        self,
        list_id: str,
        email: str,
        name: str = "",
        *,
        state: str = "Active",
        at: datetime | str | None = None,
        custom_fields: list[dict[str, Any]] | None = None,
        consent_to_track: str = "Yes",
        mobile: str = "",
    ) -> None:
        """Create a subscriber directly, at a past or future time (future: appears then).

        Raises:
            ControlError: Unknown state, bad address, or the address already in the list.
        """
        with self.store.transaction():
            self.catch_up()
            self._list_email(list_id, email)
            if state not in STATES:
                raise ControlError(f"state must be one of {STATES}")
            fields = apply_custom_fields(self.field_defs(list_id), custom_fields, {})
            ts = self._at(at)
            payload = {"list_id": list_id, "email": email, "name": name, "state": state,
                       "fields": fields, "consent": consent_to_track, "mobile": mobile}  # fmt: skip
            if ts > self.now_ts():
                self.schedule(ts, "create", payload)
            elif not self.insert_subscriber(list_id, email, name, state, ts, fields=fields,
                                            consent=consent_to_track, mobile=mobile):  # fmt: skip
                raise ControlError(f"{email} is already in list {list_id}")

    def change_state(
        self,
        list_id: str,
        email: str,
        state: str,
        at: datetime | str | None = None,
        *,
        apply_rules: bool = True,
    ) -> None:
        """Move a subscriber to ``state`` at a time; Unsubscribed follows the list's rules.

        Args:
            list_id: The list.
            email: The subscriber's address.
            state: Target state.
            at: When (future changes happen when the clock gets there).
            apply_rules: For Unsubscribed, apply UnsubscribeSetting and suppression.
        """
        with self.store.transaction():
            self.catch_up()
            _, norm = self._list_email(list_id, email)
            if state not in STATES:
                raise ControlError(f"state must be one of {STATES}")
            if self.subscriber_row(list_id, norm) is None and self._at(at) <= self.now_ts():
                raise ControlError(f"{email} is not in list {list_id}")
            payload = {"list_id": list_id, "email_norm": norm, "state": state, "rules": apply_rules}
            ts = self._at(at)
            if ts > self.now_ts():
                self.schedule(ts, "state", payload)
            else:
                self._on_state(ts, payload)

    def confirm_subscriber(
        self, list_id: str, email: str, at: datetime | str | None = None
    ) -> None:
        """The subscriber clicks the confirmation link: Unconfirmed -> Active."""
        with self.store.transaction():
            self.catch_up()
            _, norm = self._list_email(list_id, email)
            row = self.subscriber_row(list_id, norm)
            if row is None or row["state"] != "Unconfirmed":
                raise ControlError(f"{email} is not Unconfirmed in list {list_id}")
            self.set_state(list_id, norm, "Active", self._at(at))

    def suppress_at(
        self,
        client_id: str,
        email: str,
        reason: str = "Suppressed Manually",
        at: datetime | str | None = None,
    ) -> None:
        """Put an address on a client's suppression list at a time."""
        with self.store.transaction():
            self.client_row(client_id)
            ts = self._at(at)
            payload = {"client_id": client_id, "email": email, "reason": reason}
            self.schedule(ts, "suppress", payload) if ts > self.now_ts() else self._on_suppress(
                ts, payload
            )

    def unsuppress_at(self, client_id: str, email: str, at: datetime | str | None = None) -> None:
        """Take an address off a client's suppression list at a time."""
        with self.store.transaction():
            self.client_row(client_id)
            ts = self._at(at)
            payload = {"client_id": client_id, "email": email}
            self.schedule(ts, "unsuppress", payload) if ts > self.now_ts() else self._on_unsuppress(
                ts, payload
            )

    # -- campaigns ----------------------------------------------------------------------
    def send_campaign_now(
        self,
        list_ids: list[str],
        *,
        name: str = "Campaign",
        subject: str | None = None,
        segment_ids: list[str] | None = None,
        links: list[str] | None = None,
        tags: list[str] | None = None,
        with_activity: bool = True,
    ) -> str:
        """Create a campaign for lists/segments of one client and send it now.

        Returns:
            The ``CampaignID``.
        """
        with self.store.transaction():
            self.catch_up()
            if not list_ids and not segment_ids:
                raise ControlError("send to at least one list or segment")
            first = self.list_row(list_ids[0]) if list_ids else self.list_row(
                str(self.segment_row((segment_ids or [""])[0])["list_id"]))  # fmt: skip
            body: dict[str, Any] = {"Name": name, "Subject": subject or name, "FromName": "Sender",
                                    "FromEmail": "sender@example.com", "ListIDs": list_ids,
                                    "SegmentIDs": segment_ids or []}  # fmt: skip
            if links is not None:
                body["Links"] = links
            cid = self.create_campaign(str(first["client_id"]), body)
            self.store.execute("UPDATE campaigns SET activity = ?, tags = ? WHERE id = ?",
                               (1 if with_activity else 0, json.dumps(tags or []), cid))  # fmt: skip
            self.deliver_campaign(cid, self.now_ts())
            return cid

    def unsubscribe_through_campaign(self, campaign_id: str, email: str) -> None:
        """A recipient opens a sent campaign now and clicks its unsubscribe link 30 s later.

        The open and the unsubscribe appear in the campaign's reports and the unsubscribe
        follows the list's rules, as a person's own click does.

        Raises:
            ControlError: Unknown campaign, or the address did not receive it.
        """
        with self.store.transaction():
            self.catch_up()
            row = self.store.one(
                "SELECT email, list_id FROM recipients WHERE source = 'campaign' AND source_id = ? "
                "AND lower(email) = ?",
                (campaign_id, email.strip().lower()),
            )
            if row is None:
                raise ControlError(f"{email} did not receive campaign {campaign_id}")
            plan_link_unsubscribe(
                self, campaign_id, str(row["email"]), str(row["list_id"]), self.now_ts()
            )

    def hide_campaign(self, campaign_id: str) -> None:
        """Hide a campaign: it never appears anywhere in the API again."""
        with self.store.transaction():
            if (
                self.store.execute(
                    "UPDATE campaigns SET hidden = 1 WHERE id = ?", (campaign_id,)
                ).rowcount
                == 0
            ):
                raise ControlError(f"no campaign {campaign_id}")

    def tag_campaign(self, campaign_id: str, *tags: str) -> None:
        """Add tags to a campaign (shown in campaigns.json, drafts, scheduled and tags.json)."""
        with self.store.transaction():
            row = self.store.one("SELECT tags FROM campaigns WHERE id = ?", (campaign_id,))
            if row is None:
                raise ControlError(f"no campaign {campaign_id}")
            merged = list(dict.fromkeys([*json.loads(row["tags"]), *tags]))
            self.store.execute(
                "UPDATE campaigns SET tags = ? WHERE id = ?", (json.dumps(merged), campaign_id)
            )

    # -- behaviour models ---------------------------------------------------------------
    def register_link_scanner(
        self, domain: str, share: float = 1.0, delay_seconds: int = 5, **knobs: Any
    ) -> LinkScanner:
        """A spam filter on ``domain`` clicks every link for ``share`` of its recipients.

        Args:
            domain: The recipients' domain (subdomains too).
            share: Share of the domain's recipients whose mail it scans.
            delay_seconds: Seconds from delivery to the first scan.
            **knobs: Other :class:`~cm_sim.behaviour.LinkScanner` fields
                (``spread_seconds``, ``click_gap_seconds``, ``open_rate``,
                ``resubscribe_rate``, ``resubscribe_after_seconds``).
        """
        scanner = LinkScanner(domain, share, delay_seconds, **knobs)
        self.link_scanners.append(scanner)
        return scanner

    def clear_link_scanners(self) -> None:
        """Remove every link scanner."""
        self.link_scanners.clear()

    def use_activity_model(self, model: ActivityModel | None) -> None:
        """Switch generated campaign activity (``None`` turns it off)."""
        self.activity_model = model

    # -- faults, limits, tokens ---------------------------------------------------------
    def inject_fault(
        self,
        kind: str,
        path: str = ".*",
        method: str = "*",
        *,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        count: int | None = None,
        status: int = 503,
        seconds: float = 0.0,
        real_delay: float = 0.0,
        probability: float = 1.0,
    ) -> Fault:
        """Add a fault (see :mod:`cm_sim.faults`) for matching requests."""
        fault = Fault(kind, path, method, None if start is None else self._at(start),
                      None if end is None else self._at(end), count, status, seconds, real_delay, probability)  # fmt: skip
        self.faults.append(fault)
        return fault

    def start_outage(
        self,
        path: str = ".*",
        *,
        status: int = 503,
        count: int | None = None,
        until: datetime | str | None = None,
    ) -> Fault:
        """The API answers ``status`` for matching paths (until a time or for ``count`` calls)."""
        return self.inject_fault("outage", path, status=status, count=count, end=until)

    def slow_down(
        self, seconds: float, path: str = ".*", *, count: int | None = None, real_delay: float = 0.0
    ) -> Fault:
        """Each matching response takes ``seconds`` of virtual time."""
        return self.inject_fault("slow", path, seconds=seconds, count=count, real_delay=real_delay)

    def time_out(self, path: str = ".*", *, count: int | None = 1) -> Fault:
        """Matching requests time out (transport raises ``httpx.ReadTimeout``)."""
        return self.inject_fault("timeout", path, count=count)

    def lose_answers(self, path: str = ".*", *, count: int | None = 1) -> Fault:
        """Matching requests are applied but their answers are lost (a read timeout)."""
        return self.inject_fault("lost_answer", path, count=count)

    def corrupt_responses(self, path: str = ".*", *, count: int | None = 1) -> Fault:
        """Matching responses carry truncated JSON."""
        return self.inject_fault("malformed", path, count=count)

    def rate_limit_storm(
        self, path: str = ".*", *, count: int | None = None, until: datetime | str | None = None
    ) -> Fault:
        """Matching requests get 429 (a burst of rate limiting)."""
        return self.inject_fault("rate_limit", path, count=count, end=until)

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        self.faults.clear()

    def set_rate_limit(self, limit: int | None, window_seconds: int = 60) -> None:
        """Requests per credential per window; ``None`` removes the limit and its headers."""
        self.rate_limiter = None if limit is None else RateLimiter(limit, window_seconds)

    def set_transactional_rate_limit(self, limit: int | None, window_seconds: int = 60) -> None:
        """Transactional requests (``/transactional/...``) per credential per window.

        They then count against this limit only, with its own ``X-RateLimit-*`` headers
        and 429s, as Campaign Monitor rate-limits transactional email on its own; ``None``
        puts them back under the general limit.
        """
        self.tx_rate_limiter = None if limit is None else RateLimiter(limit, window_seconds)

    # -- observation ----------------------------------------------------------------------
    def request_log(self) -> list[dict[str, Any]]:
        """Every API request: method, path, query, status, virtual time, auth kind (no credentials)."""
        return [dict(e) for e in self._log]

    def api_call_count(self, path: str | None = None, method: str | None = None) -> int:
        """How many API requests were made (optionally only those whose path contains ``path``)."""
        return sum(1 for e in self._log if (path is None or path in e["path"])
                   and (method is None or e["method"] == method.upper()))  # fmt: skip

    def email_addresses(self, list_id: str | None = None) -> list[str]:
        """Every distinct subscriber address (of one list, or of the whole account), sorted."""
        with self.store.lock:
            if list_id is None:
                rows = self.store.all("SELECT DISTINCT email FROM subscribers ORDER BY email")
            else:
                rows = self.store.all(
                    "SELECT DISTINCT email FROM subscribers WHERE list_id = ? ORDER BY email",
                    [list_id],
                )
        return [str(row["email"]) for row in rows]

    def snapshot(self) -> dict[str, Any]:
        """The whole account state as the API sees it now (due events applied), for comparisons.

        Internal bookkeeping (how often the file was opened) is left out.
        """
        with self.store.lock:
            self.catch_up()
            tables = self.store.dump()
            tables["meta"] = [row for row in tables["meta"] if row["key"] != "opens"]
            return {"test_account": self.test_account, "kind": self.kind, "tables": tables}
