"""Subscriber add/update/unsubscribe/delete rules, consent, mobile numbers and custom fields."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cm_sim import Account
from cmsf_core.clock import VirtualClock


def add(http: httpx.Client, list_id: str, email: str, **extra: Any) -> httpx.Response:
    body = {
        "EmailAddress": email,
        "Name": "Sam",
        "CustomFields": [],
        "Resubscribe": False,
        "ConsentToTrack": "Yes",
    }
    return http.post(f"/subscribers/{list_id}.json", json=body | extra)


def state_of(http: httpx.Client, list_id: str, email: str) -> str:
    return str(http.get(f"/subscribers/{list_id}.json", params={"email": email}).json()["State"])


def test_add_returns_the_address_and_makes_it_active(http: httpx.Client, list_id: str) -> None:
    response = add(http, list_id, "sam@example.com")
    assert (response.status_code, response.json()) == (201, "sam@example.com")
    assert state_of(http, list_id, "sam@example.com") == "Active"


def test_add_is_an_upsert_that_keeps_the_state_date(
    http: httpx.Client, list_id: str, cm_clock: VirtualClock
) -> None:
    add(http, list_id, "sam@example.com")
    cm_clock.advance(hours=2)
    add(http, list_id, "SAM@example.com", Name="Samantha")
    details = http.get(f"/subscribers/{list_id}.json", params={"email": "sam@example.com"}).json()
    assert details["Name"] == "Samantha"
    assert details["Date"] == details["ListJoinedDate"]


def test_unsubscribed_address_is_not_readded_without_resubscribe(
    http: httpx.Client, list_id: str
) -> None:
    add(http, list_id, "sam@example.com")
    http.post(f"/subscribers/{list_id}/unsubscribe.json", json={"EmailAddress": "sam@example.com"})
    assert add(http, list_id, "sam@example.com").status_code == 201
    assert state_of(http, list_id, "sam@example.com") == "Unsubscribed"
    add(http, list_id, "sam@example.com", Resubscribe=True)
    assert state_of(http, list_id, "sam@example.com") == "Active"


@pytest.mark.parametrize(
    ("setup", "code"),
    [("unsubscribe", 206), ("delete", 205), ("suppress", 204)],
    ids=["unsubscribed-206", "deleted-205", "suppressed-204"],
)
def test_strict_mode_answers_inactive_codes(
    http: httpx.Client, account: Account, client_id: str, list_id: str, setup: str, code: int
) -> None:
    account.strict_inactive_adds = True
    email = "sam@example.com"
    if setup == "suppress":
        http.post(f"/clients/{client_id}/suppress.json", json={"EmailAddresses": [email]})
    else:
        add(http, list_id, email)
        if setup == "unsubscribe":
            account.list_row(list_id)
            http.put(
                f"/lists/{list_id}.json",
                json={"Title": "Newsletter", "UnsubscribeSetting": "OnlyThisList"},
            )
            http.post(f"/subscribers/{list_id}/unsubscribe.json", json={"EmailAddress": email})
        else:
            http.delete(f"/subscribers/{list_id}.json", params={"email": email})
    before = account.snapshot()
    response = add(http, list_id, email)
    assert (response.status_code, response.json()["Code"]) == (400, code)
    assert account.snapshot() == before


def test_confirmed_opt_in_list_keeps_new_subscribers_unconfirmed(
    http: httpx.Client, account: Account, client_id: str
) -> None:
    coi = account.create_list(client_id, "Double opt-in", confirmed_opt_in=True)
    add(http, coi, "sam@example.com")
    assert state_of(http, coi, "sam@example.com") == "Unconfirmed"
    account.confirm_subscriber(coi, "sam@example.com")
    assert state_of(http, coi, "sam@example.com") == "Active"


def test_update_changes_address_and_details(http: httpx.Client, list_id: str) -> None:
    add(http, list_id, "old@example.com")
    body = {"EmailAddress": "new@example.com", "Name": "New", "CustomFields": [], "Resubscribe": False,
            "ConsentToTrack": "No"}  # fmt: skip
    assert (
        http.put(
            f"/subscribers/{list_id}.json", params={"email": "old@example.com"}, json=body
        ).status_code
        == 200
    )
    details = http.get(f"/subscribers/{list_id}.json", params={"email": "new@example.com",
                                                                "includetrackingpreference": "True"}).json()  # fmt: skip
    assert (details["Name"], details["ConsentToTrack"]) == ("New", "No")
    missing = http.get(f"/subscribers/{list_id}.json", params={"email": "old@example.com"})
    assert (missing.status_code, missing.json()["Code"]) == (400, 203)


def test_update_to_an_address_already_in_the_list_is_refused(
    http: httpx.Client, list_id: str
) -> None:
    add(http, list_id, "a@example.com")
    add(http, list_id, "b@example.com")
    body = {
        "EmailAddress": "b@example.com",
        "Name": "",
        "CustomFields": [],
        "ConsentToTrack": "Yes",
    }
    response = http.put(
        f"/subscribers/{list_id}.json", params={"email": "a@example.com"}, json=body
    )
    assert response.json()["Code"] == 201


def test_delete_moves_the_subscriber_to_deleted(http: httpx.Client, list_id: str) -> None:
    add(http, list_id, "sam@example.com")
    assert (
        http.delete(f"/subscribers/{list_id}.json", params={"email": "sam@example.com"}).status_code
        == 200
    )
    assert state_of(http, list_id, "sam@example.com") == "Deleted"


def test_unsubscribe_from_all_client_lists(
    http: httpx.Client, account: Account, client_id: str, list_id: str
) -> None:
    other = account.create_list(client_id, "Offers")
    for lid in (list_id, other):
        add(http, lid, "sam@example.com")
    http.post(f"/subscribers/{list_id}/unsubscribe.json", json={"EmailAddress": "sam@example.com"})
    assert state_of(http, other, "sam@example.com") == "Unsubscribed"
    rows = http.get(f"/clients/{client_id}/suppressionlist.json").json()["Results"]
    assert [r["EmailAddress"] for r in rows] == ["sam@example.com"]


def test_unsubscribe_only_this_list_without_suppression(
    http: httpx.Client, account: Account, client_id: str
) -> None:
    one = account.create_list(client_id, "One", unsubscribe_setting="OnlyThisList")
    two = account.create_list(client_id, "Two")
    for lid in (one, two):
        add(http, lid, "sam@example.com")
    http.post(f"/subscribers/{one}/unsubscribe.json", json={"EmailAddress": "sam@example.com"})
    assert (state_of(http, one, "sam@example.com"), state_of(http, two, "sam@example.com")) == (
        "Unsubscribed",
        "Active",
    )
    assert (
        http.get(f"/clients/{client_id}/suppressionlist.json").json()["TotalNumberOfRecords"] == 0
    )


def test_only_this_list_with_add_to_suppression(
    http: httpx.Client, account: Account, client_id: str
) -> None:
    one = account.create_list(client_id, "One", unsubscribe_setting="OnlyThisList")
    http.put(f"/lists/{one}.json", json={"Title": "One", "UnsubscribeSetting": "OnlyThisList",
                                         "AddUnsubscribesToSuppList": True})  # fmt: skip
    add(http, one, "sam@example.com")
    http.post(f"/subscribers/{one}/unsubscribe.json", json={"EmailAddress": "sam@example.com"})
    assert (
        http.get(f"/clients/{client_id}/suppressionlist.json").json()["TotalNumberOfRecords"] == 1
    )


@pytest.mark.parametrize(
    ("consent", "code"),
    [(None, 214), ("", 214), ("Maybe", 215)],
    ids=["missing", "empty", "invalid"],
)
def test_consent_to_track_is_required(
    http: httpx.Client, account: Account, list_id: str, consent: Any, code: int
) -> None:
    before = account.snapshot()
    response = add(http, list_id, "sam@example.com", ConsentToTrack=consent)
    assert (response.status_code, response.json()["Code"]) == (400, code)
    assert account.snapshot() == before


def test_consent_is_case_insensitive(http: httpx.Client, list_id: str) -> None:
    assert add(http, list_id, "sam@example.com", ConsentToTrack="yes").status_code == 201


def test_mobile_number_is_stored_in_e164(http: httpx.Client, list_id: str) -> None:
    add(http, list_id, "sam@example.com", MobileNumber="+61 412 345 678", ConsentToSendSms="Yes")
    details = http.get(f"/subscribers/{list_id}.json", params={"email": "sam@example.com",
                                                                "includesmspreference": "true"}).json()  # fmt: skip
    assert (details["MobileNumber"], details["ConsentToSendSms"]) == ("+61412345678", "Yes")


@pytest.mark.parametrize(
    ("email", "mobile", "code"),
    [
        ("sam@example.com", "12345", 220),
        ("not-an-email", "12345", 221),
        ("not-an-email", "+61412345678", 1),
    ],
    ids=["bad-mobile", "both-bad", "bad-email"],
)
def test_invalid_contact_details(
    http: httpx.Client, account: Account, list_id: str, email: str, mobile: str, code: int
) -> None:
    before = account.snapshot()
    response = add(http, list_id, email, MobileNumber=mobile)
    assert (response.status_code, response.json()["Code"]) == (400, code)
    assert account.snapshot() == before


def test_custom_fields_round_trip_with_multi_select(
    http: httpx.Client, account: Account, list_id: str
) -> None:
    account.create_custom_field(list_id, "interests", "MultiSelectMany", ["news", "offers"])
    account.create_custom_field(list_id, "joined on", "Date")
    fields = [{"Key": "interests", "Value": "news"}, {"Key": "[interests]", "Value": "offers"},
              {"Key": "joined on", "Value": "2024-02-29"}]  # fmt: skip
    add(http, list_id, "sam@example.com", CustomFields=fields)
    got = http.get(f"/subscribers/{list_id}.json", params={"email": "sam@example.com"}).json()[
        "CustomFields"
    ]
    assert got == [{"Key": "interests", "Value": "news"}, {"Key": "interests", "Value": "offers"},
                   {"Key": "joined on", "Value": "2024-02-29"}]  # fmt: skip


def test_clear_removes_a_custom_field_value(
    http: httpx.Client, account: Account, list_id: str
) -> None:
    account.create_custom_field(list_id, "website", "Text")
    add(
        http,
        list_id,
        "sam@example.com",
        CustomFields=[{"Key": "website", "Value": "https://a.example"}],
    )
    add(
        http,
        list_id,
        "sam@example.com",
        CustomFields=[{"Key": "website", "Value": "", "Clear": True}],
    )
    got = http.get(f"/subscribers/{list_id}.json", params={"email": "sam@example.com"}).json()[
        "CustomFields"
    ]
    assert got == []


def test_out_of_range_dates_are_ignored(http: httpx.Client, account: Account, list_id: str) -> None:
    account.create_custom_field(list_id, "born", "Date")
    add(http, list_id, "sam@example.com", CustomFields=[{"Key": "born", "Value": "1850-01-01"}])
    assert (
        http.get(f"/subscribers/{list_id}.json", params={"email": "sam@example.com"}).json()[
            "CustomFields"
        ]
        == []
    )


@pytest.mark.parametrize(
    ("dtype", "options", "value"),
    [("Number", [], "twelve"), ("Date", [], "31/12/2024"), ("MultiSelectOne", ["a", "b"], "c"),
     ("Country", [], "Atlantis"), ("USState", [], "Ontario"), ("Text", [], "x" * 251),
     ("Text", [], {"nested": True})],
    ids=["number", "date-format", "select-option", "country", "us-state", "too-long", "not-scalar"],
)  # fmt: skip
def test_wrong_custom_field_values_are_refused(
    http: httpx.Client, account: Account, list_id: str, dtype: str, options: list[str], value: Any
) -> None:
    account.create_custom_field(list_id, "field", dtype, options)
    before = account.snapshot()
    response = add(
        http, list_id, "sam@example.com", CustomFields=[{"Key": "field", "Value": value}]
    )
    assert (response.status_code, response.json()["Code"]) == (400, 216)
    assert account.snapshot() == before


def test_lists_for_email_lists_every_list_with_its_state(
    http: httpx.Client, account: Account, client_id: str, list_id: str
) -> None:
    other = account.create_list(client_id, "Offers", unsubscribe_setting="OnlyThisList")
    add(http, list_id, "sam@example.com")
    add(http, other, "sam@example.com")
    http.post(f"/subscribers/{other}/unsubscribe.json", json={"EmailAddress": "sam@example.com"})
    rows = http.get(
        f"/clients/{client_id}/listsforemail.json", params={"email": "sam@example.com"}
    ).json()
    assert {(r["ListName"], r["SubscriberState"]) for r in rows} == {
        ("Newsletter", "Active"),
        ("Offers", "Unsubscribed"),
    }
