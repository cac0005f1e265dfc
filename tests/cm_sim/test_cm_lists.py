"""Lists and custom fields: create, update, keys, rename, options, deletion."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cm_sim import Account


def test_create_list_and_read_details(http: httpx.Client, client_id: str) -> None:
    body = {"Title": "Members", "UnsubscribePage": "https://example.com/bye", "ConfirmedOptIn": True,
            "ConfirmationSuccessPage": "", "UnsubscribeSetting": "OnlyThisList"}  # fmt: skip
    list_id = http.post(f"/lists/{client_id}.json", json=body).json()
    details = http.get(f"/lists/{list_id}.json").json()
    assert (details["Title"], details["ConfirmedOptIn"], details["UnsubscribeSetting"]) == (
        "Members",
        True,
        "OnlyThisList",
    )
    assert {"ListID": list_id, "Name": "Members"} in http.get(
        f"/clients/{client_id}/lists.json"
    ).json()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"Title": ""}, 251),
        ({"Title": "Newsletter"}, 250),
        ({"Title": "X", "UnsubscribeSetting": "Everything"}, 261),
    ],
    ids=["empty-title", "duplicate-title", "bad-setting"],
)
def test_create_list_validation(http: httpx.Client, account: Account, client_id: str, list_id: str,
                                body: dict[str, Any], code: int) -> None:  # fmt: skip
    before = account.snapshot()
    response = http.post(f"/lists/{client_id}.json", json=body)
    assert (response.status_code, response.json()["Code"]) == (400, code)
    assert account.snapshot() == before


def test_unknown_client_is_code_102(http: httpx.Client) -> None:
    response = http.post(f"/lists/{'0' * 32}.json", json={"Title": "X"})
    assert (response.status_code, response.json()["Code"]) == (400, 102)


def test_deleted_list_disappears_and_answers_101(
    http: httpx.Client, client_id: str, list_id: str
) -> None:
    assert http.delete(f"/lists/{list_id}.json").status_code == 200
    assert http.get(f"/clients/{client_id}/lists.json").json() == []
    for path in (
        f"/lists/{list_id}.json",
        f"/lists/{list_id}/active.json",
        f"/lists/{list_id}/customfields.json",
    ):
        response = http.get(path)
        assert (response.status_code, response.json()) == (
            400,
            {"Code": 101, "Message": "Invalid ListID"},
        )


def test_custom_field_keys_and_rename(http: httpx.Client, list_id: str) -> None:
    key = http.post(f"/lists/{list_id}/customfields.json", json={"FieldName": "Favourite Colour", "DataType": "Text",
                                                                  "Options": [], "VisibleInPreferenceCenter": True}).json()  # fmt: skip
    assert key == "[favouritecolour]"
    renamed = http.put(f"/lists/{list_id}/customfields/%5Bfavouritecolour%5D.json",
                       json={"FieldName": "Colour", "VisibleInPreferenceCenter": False})  # fmt: skip
    assert renamed.json() == "[colour]"
    fields = http.get(f"/lists/{list_id}/customfields.json").json()
    assert fields == [{"FieldName": "Colour", "Key": "[colour]", "DataType": "Text", "FieldOptions": [],
                       "VisibleInPreferenceCenter": False}]  # fmt: skip


def test_multi_select_options_update(http: httpx.Client, list_id: str) -> None:
    http.post(f"/lists/{list_id}/customfields.json", json={"FieldName": "size", "DataType": "MultiSelectOne",
                                                            "Options": ["S", "M"]})  # fmt: skip
    http.put(
        f"/lists/{list_id}/customfields/%5Bsize%5D/options.json",
        json={"Options": ["L"], "KeepExistingOptions": True},
    )
    assert http.get(f"/lists/{list_id}/customfields.json").json()[0]["FieldOptions"] == [
        "S",
        "M",
        "L",
    ]


@pytest.mark.parametrize(
    ("body", "code"),
    [({"FieldName": "", "DataType": "Text"}, 254), ({"FieldName": "x", "DataType": "Blob"}, 259),
     ({"FieldName": "x", "DataType": "Text", "Options": ["a"]}, 256),
     ({"FieldName": "x", "DataType": "MultiSelectMany", "Options": []}, 257),
     ({"FieldName": "website", "DataType": "Text"}, 255)],
    ids=["empty-name", "bad-type", "options-on-text", "multi-without-options", "duplicate"],
)  # fmt: skip
def test_custom_field_validation(
    http: httpx.Client, account: Account, list_id: str, body: dict[str, Any], code: int
) -> None:
    account.create_custom_field(list_id, "website", "Text")
    before = account.snapshot()
    response = http.post(f"/lists/{list_id}/customfields.json", json=body)
    assert (response.status_code, response.json()["Code"]) == (400, code)
    assert account.snapshot() == before


def test_unknown_field_key_is_253(http: httpx.Client, list_id: str) -> None:
    assert http.delete(f"/lists/{list_id}/customfields/%5Bnope%5D.json").json()["Code"] == 253
    assert http.delete(f"/lists/{list_id}/customfields/nope.json").json()["Code"] == 253


def test_delete_custom_field_hides_its_values(
    http: httpx.Client, account: Account, list_id: str
) -> None:
    account.create_custom_field(list_id, "website", "Text")
    account.add_subscriber_at(
        list_id, "a@example.com", custom_fields=[{"Key": "website", "Value": "x"}]
    )
    http.delete(f"/lists/{list_id}/customfields/%5Bwebsite%5D.json")
    assert (
        http.get(f"/subscribers/{list_id}.json", params={"email": "a@example.com"}).json()[
            "CustomFields"
        ]
        == []
    )


def test_scrub_active_with_suppression_list(
    http: httpx.Client, account: Account, client_id: str, list_id: str
) -> None:
    account.add_subscriber_at(list_id, "a@example.com")
    account.suppress_at(client_id, "a@example.com")
    http.put(
        f"/lists/{list_id}.json", json={"Title": "Newsletter", "ScrubActiveWithSuppList": True}
    )
    assert http.get(f"/lists/{list_id}/unsubscribed.json").json()["TotalNumberOfRecords"] == 1


def test_direct_account_cannot_create_a_second_client(cm_clock: object) -> None:
    account = Account(kind="direct")
    account.create_client("Only")
    with account.client() as http:
        response = http.post(
            "/clients.json",
            json={"CompanyName": "Two", "TimeZone": "(GMT) Casablanca", "Country": "Australia"},
        )
    assert (response.status_code, response.json()["Code"]) == (403, 403)


@pytest.mark.parametrize(
    ("body", "code"),
    [({"CompanyName": "", "TimeZone": "(GMT) Casablanca", "Country": "Australia"}, 152),
     ({"CompanyName": "X", "TimeZone": "(GMT) Casablanca", "Country": "Narnia"}, 154),
     ({"CompanyName": "X", "TimeZone": "Mars/Olympus", "Country": "Australia"}, 157)],
    ids=["no-name", "bad-country", "bad-timezone"],
)  # fmt: skip
def test_create_client_validation(
    http: httpx.Client, account: Account, body: dict[str, str], code: int
) -> None:
    before = account.snapshot()
    assert http.post("/clients.json", json=body).json()["Code"] == code
    assert account.snapshot() == before


def test_sixth_client_within_thirty_minutes_is_refused(http: httpx.Client) -> None:
    body = {"TimeZone": "(GMT) Casablanca", "Country": "Australia"}
    codes = [
        http.post("/clients.json", json=body | {"CompanyName": f"C{i}"}).status_code
        for i in range(6)
    ]
    assert codes == [201] * 5 + [400]
