"""The ``Org`` backend: one simulated Salesforce org, its data, rules and identity.

An org is plain Python over SQLite, no HTTP: tests and scenarios may drive it directly
(``org.create("Contact", {...})``), and the REST facade (:mod:`sf_sim.app`) calls the
same methods. Everything time-dependent reads ``org.clock``; everything random reads
``org.random`` (seeded), so the same seed and the same calls give the same Ids.

Parts, each in its own module: :class:`~sf_sim.store.Store` (SQLite),
:class:`~sf_sim.dml.Dml` (insert/update/upsert), :class:`~sf_sim.recycle.Recycle`
(delete, undelete, Get Deleted/Updated), :class:`~sf_sim.control.Control` (test hooks),
:class:`~sf_sim.sessions.Sessions` (auth), :class:`~sf_sim.limits.ApiLimits`,
:class:`~sf_sim.query.Queries` (SOQL and locators), :class:`~sf_sim.bulk.BulkJobs`
(Bulk API 2.0), :class:`~sf_sim.bulk1.Bulk1Jobs` (Bulk API 1.0),
:class:`~sf_sim.async_apex.AsyncApex` (batch, queueable and scheduled jobs),
:class:`~sf_sim.sharing.Sharing` (record visibility), :class:`~sf_sim.reports.Reports`
(the Analytics API's reports) and :class:`~sf_sim.list_views.ListViews` (list views).

This is the backend layer: it imports neither the facade nor an activation. The org
everyone uses, :class:`sf_sim.Org` (:class:`sf_sim.activation.Org`), is this class with
its facade (``org.app``) and the ways a client reaches it (``org.session()``,
``org.client()``, ``org.activate()``, ``org.intercept()``): backend → facade → activation.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Self
from zoneinfo import ZoneInfo

from cmsf_core.clock import Clock, VirtualClock
from sf_sim.async_apex import AsyncApex
from sf_sim.bulk import BulkJobs
from sf_sim.bulk1 import Bulk1Jobs
from sf_sim.control import Control
from sf_sim.deploy import Deployments
from sf_sim.dml import Dml, WriteContext
from sf_sim.exceptions import SalesforceApiError, SfSimError
from sf_sim.identity import create_identity, refresh_copy
from sf_sim.ids import IdGenerator
from sf_sim.limits import ApiLimits
from sf_sim.list_views import ListViews
from sf_sim.merge import convert_lead, merge_records
from sf_sim.metadata import load_metadata
from sf_sim.query import Queries
from sf_sim.records import SaveResult, normalise_id
from sf_sim.recycle import Recycle, run_delete, run_undelete
from sf_sim.reports import Reports
from sf_sim.schema import ObjectDef, Schema
from sf_sim.sessions import Sessions
from sf_sim.sharing import Sharing
from sf_sim.standard_objects import standard_schema
from sf_sim.store import Store, dump_object, load_object, quote

__all__ = ["Org"]


class Org:
    """A simulated Salesforce org.

    Args:
        path: SQLite file to keep the org in (reopening restores it); None = in memory.
        name: My Domain name; the instance URL is ``https://<name>.my.salesforce.com``.
        clock: The clock every rule reads (a fresh :class:`VirtualClock` by default).
        seed: Seed of the org's random generator (session ids, generated secrets).
        metadata: DX source folders/files with the custom objects and fields to load.
        edition: ``Organization.OrganizationType``.
        api_limit: Daily API request limit (default 15,000, a Developer Edition's).
        session_idle: Idle time after which sessions expire (default two hours).

    Example:
        >>> org = Org()
        >>> contact_id = org.create("Contact", {"LastName": "Lee"})
        >>> org.get("Contact", contact_id)["LastName"]
        'Lee'
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        name: str = "acme",
        clock: Clock | None = None,
        seed: int = 0,
        metadata: Iterable[str | Path] = (),
        edition: str = "Developer Edition",
        api_limit: int | None = None,
        session_idle: timedelta | None = None,
        _copy_source: Org | None = None,
    ) -> None:
        self.clock: Clock = clock or VirtualClock()
        self.random = random.Random(seed)
        self.credential_random: random.Random = self.random
        """Where session ids come from (``sf-sim serve`` makes it a system source)."""
        self.store: Store = Store(
            path, page_size=None if _copy_source is None else _copy_source.store.page_size
        )
        if _copy_source is not None:
            _copy_source.store.conn.backup(self.store.conn)
        self.schema: Schema = standard_schema()
        for stored in self.store.meta("custom_schema", []):
            self.schema.add(load_object(stored))
        metadata = list(metadata)
        if metadata:
            load_metadata(metadata, self.schema)
            self._save_schema()
        self.ids = IdGenerator(self.store.meta("id_instance", "5g"), start=self._next_serial())
        self.transient_ids = IdGenerator(self.store.meta("id_instance", "5g"))
        """Ids of things that live only in this process (query locators, bulk jobs)."""
        for definition in self.schema:
            self.store.ensure_table(definition)
        self.control = Control(self)
        self.sharing = Sharing(self)
        self.reports = Reports(self)
        self.list_views = ListViews(self)
        self.dml = Dml(self)
        self.recycle = Recycle(self)
        self.sessions = Sessions(self)
        self.limits = ApiLimits(self)
        self.queries = Queries(self)
        self.bulk = BulkJobs(self)
        self.bulk1 = Bulk1Jobs(self)
        self.apex = AsyncApex(self)
        self.deployments = Deployments(self)
        self.base_url_override: str | None = None
        self.admin_secret: tuple[str, str] | None = None
        """The admin's password and security token, known only to the process that set them
        (the org file keeps their salted hashes, as the platform does)."""
        self.post_copy_hooks: list[Any] = []
        if self.store.is_new:
            with self.store.transaction():
                create_identity(self, name=name, edition=edition)
        if api_limit is not None:
            self.limits.daily_limit = api_limit
        if session_idle is not None:
            self.sessions.idle_timeout = session_idle
        self.running_user_id: str = self.store.meta("admin_user_id")
        legacy = self.store.meta("admin_credentials")
        if legacy:  # a file written before credentials were kept only as hashes
            self.admin_secret = (str(legacy[0]), str(legacy[1]))
            with self.store.transaction():
                self.store.conn.execute("DELETE FROM _sf_meta WHERE key = 'admin_credentials'")

    # ------------------------------------------------------------------ identity

    @property
    def org_id(self) -> str:
        """The 18-character Organization Id (``00D…``)."""
        return str(self.store.meta("org_id"))

    @property
    def name(self) -> str:
        """The My Domain name."""
        return str(self.store.meta("my_domain"))

    @property
    def is_sandbox(self) -> bool:
        """True for a sandbox copy."""
        return bool(self.store.meta("is_sandbox", False))

    @property
    def host(self) -> str:
        """The instance host (``acme.my.salesforce.com``)."""
        return str(self.store.meta("instance_host"))

    @property
    def instance_url(self) -> str:
        """``https://<host>``: where simple-salesforce sends REST calls."""
        return f"https://{self.host}"

    @property
    def base_url(self) -> str:
        """The URL the org advertises in login responses (a loopback server overrides it)."""
        return self.base_url_override or self.instance_url

    @property
    def login_hosts(self) -> tuple[str, ...]:
        """Hosts whose login endpoints reach this org."""
        return ("login.salesforce.com", "test.salesforce.com", self.host)

    @property
    def created_date(self) -> str:
        """When the org was created (API datetime)."""
        return str(self.store.meta("created_date"))

    @property
    def email_deliverability(self) -> str:
        """``all`` (production) or ``system`` (a new sandbox: "System email only")."""
        return str(self.store.meta("email_deliverability", "all"))

    @email_deliverability.setter
    def email_deliverability(self, value: str) -> None:
        if value not in ("all", "system", "none"):
            raise ValueError("deliverability must be all, system or none")
        self.store.set_meta("email_deliverability", value)

    @property
    def admin_username(self) -> str:
        """Username of the default System Administrator (the running user)."""
        return str(self.store.meta("admin_username"))

    def admin_credentials(self) -> tuple[str, str, str]:
        """``(username, password, security_token)`` of the default admin, for clients.

        Raises:
            SfSimError: In a process that reopened an org file: the file keeps only hashes,
                so the password is known to the process that set it (``org.client()`` still
                works, through a session of the admin's).
        """
        if self.admin_secret is None:
            raise SfSimError(
                "the admin's password is not kept in the org file (only its hash); "
                "set a new one with org.control.set_password(org.admin_username, ...)"
            )
        return self.admin_username, *self.admin_secret

    def __repr__(self) -> str:
        return f"Org(name={self.name!r}, org_id={self.org_id!r}, sandbox={self.is_sandbox})"

    def today(self) -> date:
        """Today in the running user's time zone."""
        zone = (
            self.store.scalar(
                'SELECT TimeZoneSidKey FROM "User" WHERE Id = ?', (self.running_user_id,)
            )
            or "GMT"
        )
        return self.clock.now().astimezone(ZoneInfo(str(zone))).date()

    def user_timezone(self) -> str:
        """The running user's IANA time zone."""
        zone = self.store.scalar(
            'SELECT TimeZoneSidKey FROM "User" WHERE Id = ?', (self.running_user_id,)
        )
        return str(zone or "GMT")

    @contextmanager
    def run_as(self, user_id: str) -> Iterator[None]:
        """Make another user the running user inside the block."""
        previous = self.running_user_id
        self.running_user_id = normalise_id(user_id) or user_id
        try:
            yield
        finally:
            self.running_user_id = previous

    def _next_serial(self) -> int:
        highest = 0
        for definition in self.schema:
            if not self.store.db[definition.name].exists():
                continue
            value = self.store.scalar(f"SELECT MAX(substr(Id, 7, 9)) FROM {quote(definition.name)}")
            if value:
                number = 0
                for char in str(value):
                    number = (
                        number * 62
                        + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".index(
                            char
                        )
                    )
                highest = max(highest, number)
        return max(highest + 1, int(self.store.meta("id_serial", 1)))

    def _save_schema(self) -> None:
        custom = [
            dump_object(definition)
            for definition in self.schema
            if definition.custom or any(item.custom for item in definition.iter_fields())
        ]
        self.store.set_meta("custom_schema", custom)

    def tick(self) -> None:
        """Housekeeping that time drives: purge the recycle bin after 15 days, close
        query locators after two days, forget finished bulk jobs after seven; bring the
        bulk queue (and, on a clocked org, the async Apex queue) up to the clock."""
        self.recycle.purge()
        self.queries.expire()
        self.bulk.expire()
        self.bulk.advance()
        self.apex.catch_up()

    # ------------------------------------------------------------------ backend API

    def object(self, name: str) -> ObjectDef:
        """The definition of an object, or NOT_FOUND (404) as the REST API answers."""
        return self.dml.object(name)

    def insert(
        self,
        object_name: str,
        records: Sequence[dict[str, Any]],
        *,
        all_or_none: bool = False,
        system: bool = False,
    ) -> list[SaveResult]:
        """Create records; per-record results in input order."""
        with self.store.lock:
            return self.dml.insert(
                object_name, records, WriteContext(all_or_none=all_or_none, system=system)
            )

    def create(self, object_name: str, fields: dict[str, Any], *, system: bool = False) -> str:
        """Create one record and return its Id.

        Raises:
            RecordError: The record's first error.
        """
        result = self.insert(object_name, [fields], system=system)[0]
        if not result.success:
            raise result.errors[0]
        assert result.id is not None
        return result.id

    def update(
        self, object_name: str, record_id: str, fields: dict[str, Any], *, system: bool = False
    ) -> None:
        """Update one record.

        Raises:
            RecordError: The record's first error.
        """
        with self.store.lock:
            result = self.dml.update(
                object_name, [{**fields, "Id": record_id}], WriteContext(system=system)
            )[0]
        if not result.success:
            raise result.errors[0]

    def upsert(
        self, object_name: str, external_field: str, value: Any, fields: dict[str, Any]
    ) -> tuple[str, bool]:
        """Insert or update one record by an external Id; returns ``(id, created)``."""
        with self.store.lock:
            result = self.dml.upsert(
                object_name, external_field, [{**fields, external_field: value}]
            )[0]
        if not result.success:
            raise result.errors[0]
        assert result.id is not None
        return result.id, bool(result.created)

    def delete(
        self, record_ids: str | Sequence[str], *, all_or_none: bool = False, hard: bool = False
    ) -> list[SaveResult]:
        """Delete records (into the recycle bin unless ``hard``)."""
        ids = [record_ids] if isinstance(record_ids, str) else list(record_ids)
        with self.store.lock:
            return run_delete(self, ids, WriteContext(all_or_none=all_or_none), hard=hard)

    def undelete(self, record_ids: str | Sequence[str]) -> list[SaveResult]:
        """Restore records from the recycle bin."""
        ids = [record_ids] if isinstance(record_ids, str) else list(record_ids)
        with self.store.lock:
            return run_undelete(self, ids)

    def get(
        self,
        object_name: str,
        record_id: str,
        fields: Sequence[str] | None = None,
        *,
        api_version: str = "59.0",
    ) -> dict[str, Any]:
        """One record in the REST shape (``attributes`` first).

        Raises:
            SalesforceApiError: NOT_FOUND (404), ENTITY_IS_DELETED (404) or INVALID_FIELD (400).
        """
        definition = self.object(object_name)
        normal = normalise_id(record_id)
        with self.store.lock:
            row = self.store.get(definition.name, normal) if normal else None
        if row is None:
            raise SalesforceApiError("NOT_FOUND", "The requested resource does not exist", 404)
        if row.get("IsDeleted"):
            raise SalesforceApiError("ENTITY_IS_DELETED", "entity is deleted", 404)
        values = self.dml.row_to_api(definition, row)
        if fields:
            chosen = []
            for name in fields:
                item = definition.field(name.strip())
                if item is None or not self.control.field_visible(definition.name, item.name):
                    raise SalesforceApiError(
                        "INVALID_FIELD",
                        f"No such column '{name.strip()}' on sobject of type {definition.name}",
                        400,
                    )
                chosen.append(item.name)
        else:
            chosen = [
                item.name
                for item in definition.iter_fields()
                if self.control.field_visible(definition.name, item.name)
            ]
        out: dict[str, Any] = {
            "attributes": {
                "type": definition.name,
                "url": f"/services/data/v{api_version}/sobjects/{definition.name}/{row['Id']}",
            }
        }
        for name in chosen:
            out[name] = values.get(name)
        return out

    def query(self, soql: str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Run SOQL as the running user and return every record (REST shape)."""
        return self.queries.all_records(soql, include_deleted=include_deleted)

    def count(self, object_name: str, *, include_deleted: bool = False) -> int:
        """Number of records of an object (recycle bin included on request)."""
        definition = self.object(object_name)
        where = "" if include_deleted else " WHERE IsDeleted = 0"
        with self.store.lock:
            return int(
                self.store.scalar(f"SELECT COUNT(*) FROM {quote(definition.name)}{where}") or 0
            )

    def convert_lead(
        self,
        lead_id: str,
        *,
        account_id: str | None = None,
        contact_id: str | None = None,
        status: str = "Closed - Converted",
    ) -> dict[str, str]:
        """Convert a lead: create (or use) an account and contact, mark the lead converted.

        Returns:
            ``{"accountId": …, "contactId": …}``.

        Raises:
            RecordError: If the lead is already converted.
            SalesforceApiError: NOT_FOUND if there is no such lead.
        """
        return convert_lead(
            self, lead_id, account_id=account_id, contact_id=contact_id, status=status
        )

    def merge(self, master_id: str, loser_ids: Sequence[str]) -> dict[str, Any]:
        """Merge one or two duplicates into a master lead, contact or account.

        Returns:
            The SOAP ``MergeResult`` fields: ``id``, ``mergedRecordIds``,
            ``updatedRelatedIds``, ``success``, ``errors``.

        Raises:
            SalesforceApiError: For records that cannot be merged.
        """
        return merge_records(self, master_id, list(loser_ids))

    def refresh_sandbox(
        self, sandbox_name: str, *, path: str | Path | None = None, post_copy: Any = None
    ) -> Self:
        """Copy this org into a sandbox (new 00D Id, ``IsSandbox``, ``.invalid`` user e-mails).

        Args:
            sandbox_name: Sandbox name; usernames get ``.<name>`` appended.
            path: Where to keep the sandbox (None = in memory).
            post_copy: ``post_copy(sandbox, context)`` run after the copy (SandboxPostCopy).

        Returns:
            The sandbox org, sharing this org's clock.
        """
        with self.store.lock:
            return refresh_copy(self, sandbox_name, path=path, post_copy=post_copy)

    def reset(self) -> None:
        """Forget hooks, usage and sessions (data stays): a clean slate for the next test."""
        self.control.reset()
        self.limits.reset()
        self.sessions.revoke_all()
        self.queries.clear()

    def close(self) -> None:
        """Close the database."""
        self.store.set_meta("id_serial", self.ids.serial)
        self.store.close()
