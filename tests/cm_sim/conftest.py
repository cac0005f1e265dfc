"""Small fixtures for cm_sim tests: an account, one client with one list, an httpx client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from cm_sim import Account


@pytest.fixture
def account(cm_account: Account) -> Account:
    """A fresh agency account."""
    return cm_account


@pytest.fixture
def client_id(account: Account) -> str:
    """One client in Sydney time (GMT+10)."""
    return account.create_client("Acme Pty Ltd")


@pytest.fixture
def list_id(account: Account, client_id: str) -> str:
    """One list of that client (AllClientLists, single opt-in)."""
    return account.create_list(client_id, "Newsletter")


@pytest.fixture
def http(account: Account) -> Iterator[httpx.Client]:
    """An httpx client on the in-process transport with the account key."""
    with account.client() as client:
        yield client
