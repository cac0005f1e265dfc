from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sf_sim import Org, QueryError, RecordError, SalesforceApiError


@pytest.fixture
def org() -> Org:
    return Org()


@pytest.mark.parametrize(
    ("call", "error", "code"),
    [
        (lambda o: o.get("Contact", "003000000000000AAA"), SalesforceApiError, "NOT_FOUND"),
        (lambda o: o.get("Contact", "x" * 10_000), SalesforceApiError, "NOT_FOUND"),
        (lambda o: o.get("Nope__c", "003000000000000AAA"), SalesforceApiError, "NOT_FOUND"),
        (lambda o: o.get("Contact", o.create("Contact", {"LastName": "A"}), ["Bogus"]), SalesforceApiError, "INVALID_FIELD"),
        (lambda o: o.update("Contact", "003000000000000AAA", {"LastName": "B"}), RecordError, "INVALID_CROSS_REFERENCE_KEY"),
        (lambda o: o.update("Contact", "not-an-id", {"LastName": "B"}), RecordError, "MALFORMED_ID"),
        (lambda o: o.upsert("Contact", "LastName", "x", {}), SalesforceApiError, "INVALID_FIELD"),
        (lambda o: o.upsert("Contact", "Nope__c", "x", {}), SalesforceApiError, "NOT_FOUND"),
        (lambda o: o.query("SELECT FROM"), QueryError, "MALFORMED_QUERY"),
        (lambda o: o.query("SELECT Id FROM Contact WHERE Name = '" + "x" * 100_000 + "'"), QueryError, "MALFORMED_QUERY"),
        (lambda o: o.convert_lead("00Q000000000000AAA"), SalesforceApiError, "NOT_FOUND"),
        (lambda o: o.count("Nope__c"), SalesforceApiError, "NOT_FOUND"),
        (lambda o: o.create("Contact", {"LastName": None}), RecordError, "REQUIRED_FIELD_MISSING"),
        (lambda o: o.create("Contact", {"LastName": "\x00\ud7ff" * 10}), None, None),
    ],
    ids=[
        "get-unknown", "get-oversized-id", "get-unknown-object", "get-unknown-field", "update-unknown",
        "update-malformed", "upsert-not-external", "upsert-unknown-field", "query-malformed", "query-oversized",
        "convert-missing-lead", "count-unknown-object", "create-null-required", "create-control-characters",
    ],
)  # fmt: skip
def test_backend_calls_fail_with_platform_errors(
    org: Org, call: Callable[[Org], Any], error: type[Exception] | None, code: str | None
) -> None:
    if error is None:
        call(org)
        return
    with pytest.raises(error) as exc:
        call(org)
    assert exc.value.error_code == code  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "bad", ["", "nope", "003000000000000AA!", None], ids=["empty", "word", "bang", "none"]
)
def test_delete_and_undelete_of_malformed_ids(org: Org, bad: Any) -> None:
    assert org.delete([bad])[0].errors[0].error_code == "MALFORMED_ID"
    assert org.undelete([bad])[0].errors[0].error_code == "MALFORMED_ID"


def test_converting_twice_is_refused(org: Org) -> None:
    lead = org.create("Lead", {"LastName": "L", "Company": "C"})
    org.convert_lead(lead)
    with pytest.raises(RecordError) as exc:
        org.convert_lead(lead)
    assert exc.value.error_code == "CANNOT_UPDATE_CONVERTED_LEAD"
    assert org.count("Contact") == 1


def test_all_or_none_delete_changes_nothing(org: Org) -> None:
    kept = org.create("Contact", {"LastName": "Kept"})
    results = org.delete([kept, "003000000000000AAA"], all_or_none=True)
    assert [r.success for r in results] == [False, False]
    assert results[0].errors[0].error_code == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert org.count("Contact") == 1
