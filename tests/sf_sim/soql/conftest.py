"""Fixtures for the SOQL engine: a small org database built from the real catalogue.

Tables are created by the org store (:class:`sf_sim.store.Store`), so columns,
collations and indexes are the ones the engine meets in an ``Org``; rows are inserted
directly per the storage convention (values per ``to_storage``), without DML rules,
so each test controls exactly what is stored.
"""

from __future__ import annotations

import importlib.util
import sqlite3
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest


def _bind_installed_package(name: str) -> None:
    """Make ``name`` the repository's package, not a folder of ``tests/``.

    pytest's default import mode puts ``tests/`` on ``sys.path``, where ``tests/sf_sim``
    resolves ``sf_sim`` as a namespace package and this folder would shadow
    ``sf_sim.soql``. (A ``pythonpath = ["."]`` pytest setting would make this moot.)
    """
    module = sys.modules.get(name)
    if module is not None and getattr(module, "__file__", None):
        return
    root = Path(__file__).resolve().parents[3]
    location = root.joinpath(*name.split("."), "__init__.py")
    spec = importlib.util.spec_from_file_location(
        name, location, submodule_search_locations=[str(location.parent)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


_bind_installed_package("sf_sim")
_bind_installed_package("sf_sim.soql")

from sf_sim.catalogue import picklist  # noqa: E402
from sf_sim.ids import IdGenerator  # noqa: E402
from sf_sim.schema import Schema, format_datetime, to_storage  # noqa: E402
from sf_sim.soql import QueryCursor, run_query  # noqa: E402
from sf_sim.standard_objects import standard_schema  # noqa: E402
from sf_sim.store import Store  # noqa: E402

NOW = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)
"""The org clock's now in these tests (a Friday)."""


def create_tables(schema: Schema) -> Store:
    """A store with one table per object, created by the org store itself."""
    store = Store()
    for obj in schema:
        store.ensure_table(obj)
    return store


@dataclass
class OrgDb:
    """A database plus helpers to insert records and run queries."""

    conn: sqlite3.Connection
    schema: Schema
    ids: IdGenerator = field(default_factory=IdGenerator)
    created: datetime = NOW

    def insert(self, object_name: str, **values: Any) -> str:
        """Insert a record (API values) and return its 18-character Id."""
        obj = self.schema.object(object_name)
        assert obj is not None
        record: dict[str, Any] = {"Id": self.ids.next(obj.key_prefix)}
        if obj.field("IsDeleted") is not None:
            record["IsDeleted"] = False
        for audit in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
            if obj.field(audit) is not None:
                record[audit] = format_datetime(self.created)
        record.update(values)
        stored = {}
        for name, value in record.items():
            definition = obj.field(name)
            assert definition is not None, name
            stored[definition.name] = to_storage(definition, value)
        names = ", ".join(f'"{n}"' for n in stored)
        marks = ", ".join("?" for _ in stored)
        self.conn.execute(
            f'INSERT INTO "{obj.name}" ({names}) VALUES ({marks})', list(stored.values())
        )
        return str(record["Id"])

    def query(self, soql: str, **options: Any) -> QueryCursor:
        """Run SOQL at :data:`NOW` unless told otherwise."""
        options.setdefault("now", NOW)
        return run_query(self.conn, self.schema, soql, **options)

    def records(self, soql: str, **options: Any) -> list[dict[str, Any]]:
        """All records of a query."""
        cursor = self.query(soql, **options)
        return cursor.fetch(100_000)

    def ids_of(self, soql: str, **options: Any) -> list[str]:
        """The Ids a query returns, in order."""
        return [r["Id"] for r in self.records(soql, **options)]


def make_schema() -> Schema:
    """The real catalogue plus a custom multi-select picklist on Contact."""
    schema = standard_schema()
    contact = schema.object("Contact")
    assert contact is not None
    contact.add_field(
        picklist("Interests__c", ("Golf", "Tennis", "Chess", "Sailing"), multi=True, custom=True)
    )
    return schema


@pytest.fixture
def db() -> Iterator[OrgDb]:
    """An empty org database with the standard objects."""
    schema = make_schema()
    store = create_tables(schema)
    yield OrgDb(store.conn, schema)
    store.conn.close()


@dataclass
class World:
    """Ids of the records of :func:`world`."""

    db: OrgDb
    ids: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return self.ids[key]


@pytest.fixture
def world(db: OrgDb) -> World:
    """A small org: two users, a queue, accounts, contacts, leads, a campaign, members."""
    return build_world(db)


def build_world(db: OrgDb) -> World:
    """Fill ``db`` with the records of the :func:`world` fixture."""
    ids: dict[str, str] = {}
    add: Callable[..., str] = db.insert
    ids["profile"] = add("Profile", Name="Standard User")
    common = {
        "TimeZoneSidKey": "America/Los_Angeles",
        "LocaleSidKey": "en_US",
        "EmailEncodingKey": "UTF-8",
        "LanguageLocaleKey": "en_US",
        "ProfileId": ids["profile"],
    }
    ids["ann"] = add(
        "User", Username="ann@example.com", LastName="Lee", FirstName="Ann", Name="Ann Lee",
        Email="ann@example.com", Alias="alee", **common,
    )  # fmt: skip
    ids["bob"] = add(
        "User", Username="bob@example.com", LastName="Roe", FirstName="Bob", Name="Bob Roe",
        Email="bob@example.com", Alias="broe", **common,
    )  # fmt: skip
    ids["queue"] = add("Group", Name="Web Leads", Type="Queue", Email="queue@example.com")
    ids["acme"] = add("Account", Name="Acme", Industry="Retail", OwnerId=ids["ann"])
    ids["globex"] = add(
        "Account", Name="Globex", Industry="Banking", OwnerId=ids["bob"], ParentId=ids["acme"]
    )
    ids["initech"] = add("Account", Name="Initech", OwnerId=ids["bob"], NumberOfEmployees=50)
    contacts = [
        ("c1", "Ada", "Lovelace", "ada@acme.com", "acme", "Golf;Chess", False),
        ("c2", "Alan", "Turing", "alan@acme.com", "acme", "Tennis", True),
        ("c3", "Grace", "Hopper", "GRACE@globex.com", "globex", None, False),
        ("c4", "Linus", "Pauling", None, None, "Golf;Tennis;Sailing", False),
        ("c5", "Edsger", "Dijkstra", "edsger_d@globex.com", "globex", "Chess", True),
    ]
    for key, first, last, email, account, interests, opted_out in contacts:
        ids[key] = add(
            "Contact",
            FirstName=first,
            LastName=last,
            Name=f"{first} {last}",
            Email=email,
            AccountId=ids[account] if account else None,
            OwnerId=ids["ann"] if key in ("c1", "c2", "c3") else ids["bob"],
            Interests__c=interests,
            HasOptedOutOfEmail=opted_out,
        )
    ids["l1"] = add(
        "Lead", LastName="Queue", Company="Q Co", Status="Open - Not Contacted",
        OwnerId=ids["queue"], Email="lead1@q.com", AnnualRevenue=1000.5,
    )  # fmt: skip
    ids["l2"] = add(
        "Lead", LastName="Owned", Company="O Co", Status="Working - Contacted",
        OwnerId=ids["ann"], Email="lead2@o.com", AnnualRevenue=250.0,
    )  # fmt: skip
    ids["camp"] = add("Campaign", Name="Spring", OwnerId=ids["ann"], StartDate="2024-03-01")
    ids["camp2"] = add("Campaign", Name="Autumn", OwnerId=ids["ann"])
    for key, person in (("m1", "c1"), ("m2", "c3"), ("m4", "c5")):
        ids[key] = add(
            "CampaignMember", CampaignId=ids["camp"], ContactId=ids[person], Status="Sent"
        )
    ids["m3"] = add("CampaignMember", CampaignId=ids["camp"], LeadId=ids["l1"], Status="Responded")
    ids["m5"] = add("CampaignMember", CampaignId=ids["camp2"], ContactId=ids["c1"], Status="Sent")
    return World(db, ids)
