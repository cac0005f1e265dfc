"""One short handler per API operation: account, clients, lists, fields, subscribers, suppression.

A handler reads the request (path groups, query, JSON body), calls the backend and
returns ``(status, body)``; ``body`` ``None`` is an empty response. No rules here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from cm_sim.exceptions import CmApiError, api_error
from cm_sim.models_base import Scope
from cm_sim.times import countries, timezones, wire_seconds

if TYPE_CHECKING:
    from cm_sim.models import Account

__all__ = ["ApiRequest", "Result"]

Result = tuple[int, Any]


@dataclass
class ApiRequest:
    """What a handler sees of an HTTP request.

    Attributes:
        method: HTTP method.
        path: Path below ``/api/v3.3`` (or ``/oauth...``).
        groups: Path parameters captured by the route.
        args: Query string (last value wins).
        raw_body: The request body bytes.
        scope: The authenticated caller.
        form: Form fields (``application/x-www-form-urlencoded`` bodies).
    """

    method: str
    path: str
    groups: tuple[str, ...]
    args: dict[str, str]
    raw_body: bytes
    scope: Scope
    form: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The JSON body (``None`` when empty or blank).

        Raises:
            CmApiError: 400 Code 400 when the body is not valid JSON.
        """
        text = self.raw_body.decode("utf-8", errors="replace").strip()
        if not text:
            return None
        try:
            data = json.loads(text, parse_float=_finite_float, parse_constant=_no_constant)
        except (ValueError, RecursionError):
            raise api_error(400) from None
        _check_json(data)
        return data

    def body(self) -> dict[str, Any]:
        """The JSON body, which must be an object."""
        data = self.json()
        if not isinstance(data, dict):
            raise api_error(400)
        return data

    def key(self, index: int) -> str:
        """A path group URL-decoded (custom field keys arrive as ``%5Bkey%5D``)."""
        return unquote(self.groups[index])


MAX_CREDITS = 2**31 - 1
"""Credits are a 32-bit count on the platform's side."""

MAX_JSON_DEPTH = 64
"""How deep a request body may nest (the platform's JSON reader stops at 64 levels)."""


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("number out of range")
    return value


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def _check_json(data: Any) -> None:
    """Refuse bodies nested too deep or with strings that are not Unicode (lone surrogates).

    Raises:
        CmApiError: 400 Code 400.
    """
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise api_error(400)
        if isinstance(value, str):
            _check_text(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_text(key)
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)


def _check_text(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise api_error(400) from None


def need_account_key(req: ApiRequest) -> None:
    """Account-level operations refuse client API keys (401 Code 100)."""
    if not req.scope.account_level:
        raise CmApiError(100, "Invalid API Key: this operation needs the account API key", 401)


# -- account ------------------------------------------------------------------------------
def get_clients(a: Account, r: ApiRequest) -> Result:
    """``GET /clients.json``."""
    return 200, a.clients_to_api(r.scope)


def create_client(a: Account, r: ApiRequest) -> Result:
    """``POST /clients.json``."""
    need_account_key(r)
    b = r.body()
    return 201, a.create_client(
        b.get("CompanyName", ""), b.get("TimeZone", ""), b.get("Country", ""), via_api=True
    )


def billing_details(a: Account, r: ApiRequest) -> Result:
    """``GET /billingdetails.json``."""
    need_account_key(r)
    return 200, a.billing_details_to_api()


def get_countries(a: Account, r: ApiRequest) -> Result:
    """``GET /countries.json``."""
    return 200, list(countries())


def get_timezones(a: Account, r: ApiRequest) -> Result:
    """``GET /timezones.json``."""
    return 200, list(timezones())


def system_date(a: Account, r: ApiRequest) -> Result:
    """``GET /systemdate.json`` in the account's time zone."""
    return 200, {"SystemDate": wire_seconds(a.now_ts(), a.account_tz())}


def get_admins(a: Account, r: ApiRequest) -> Result:
    """``GET /admins.json`` (or one with ``?email=``)."""
    need_account_key(r)
    if r.args.get("email"):
        row = a.administrator_row(r.args["email"])
        return 200, {"EmailAddress": row["email"], "Name": row["name"], "Status": row["status"]}
    return 200, a.administrators_to_api()


def add_admin(a: Account, r: ApiRequest) -> Result:
    """``POST /admins.json``."""
    need_account_key(r)
    b = r.body()
    return 201, a.add_administrator(str(b.get("EmailAddress", "")), str(b.get("Name", "")))


def update_admin(a: Account, r: ApiRequest) -> Result:
    """``PUT /admins.json?email=``."""
    need_account_key(r)
    a.administrator_row(r.args.get("email", ""))
    b = r.body()
    a.remove_administrator(r.args["email"])
    return 200, a.add_administrator(str(b.get("EmailAddress", "")), str(b.get("Name", "")))


def delete_admin(a: Account, r: ApiRequest) -> Result:
    """``DELETE /admins.json?email=``."""
    need_account_key(r)
    a.remove_administrator(r.args.get("email", ""))
    return 200, None


def get_primary_contact(a: Account, r: ApiRequest) -> Result:
    """``GET /primarycontact.json``."""
    need_account_key(r)
    return 200, {"EmailAddress": a.primary_contact()}


def set_primary_contact(a: Account, r: ApiRequest) -> Result:
    """``PUT /primarycontact.json?email=``."""
    need_account_key(r)
    return 200, a.set_primary_contact(r.args.get("email", ""))


def external_session(a: Account, r: ApiRequest) -> Result:
    """``PUT /externalsession.json``: a login URL for a Campaign Monitor user."""
    need_account_key(r)
    b = r.body()
    a.client_row(str(b.get("ClientID", "")))
    return 200, {
        "SessionUrl": f"https://external1.createsend.com/cd/create/{a.new_hex(8).upper()}/{a.new_hex(8).upper()}"
    }


# -- clients ------------------------------------------------------------------------------
def client_details(a: Account, r: ApiRequest) -> Result:
    """``GET /clients/{id}.json``."""
    return 200, a.client_details_to_api(r.groups[0], r.scope)


def delete_client(a: Account, r: ApiRequest) -> Result:
    """``DELETE /clients/{id}.json``."""
    need_account_key(r)
    a.delete_client(r.groups[0], r.scope)
    return 200, None


def set_basics(a: Account, r: ApiRequest) -> Result:
    """``PUT /clients/{id}/setbasics.json``."""
    a.set_client_basics(r.groups[0], r.body(), r.scope)
    return 200, None


def set_billing(a: Account, r: ApiRequest) -> Result:
    """``PUT /clients/{id}/setpaygbilling.json`` and ``setmonthlybilling.json``."""
    need_account_key(r)
    a.set_client_billing(r.groups[0], r.body(), r.scope)
    return 200, None


def transfer_credits(a: Account, r: ApiRequest) -> Result:
    """``POST /clients/{id}/credits.json``."""
    need_account_key(r)
    credits = r.body().get("Credits")
    if not isinstance(credits, int) or isinstance(credits, bool) or abs(credits) > MAX_CREDITS:
        raise api_error(400, "Credits must be a whole number")
    return 200, a.transfer_credits(r.groups[0], credits, r.scope)


def client_lists(a: Account, r: ApiRequest) -> Result:
    """``GET /clients/{id}/lists.json``."""
    return 200, a.lists_to_api(r.groups[0], r.scope)


def lists_for_email(a: Account, r: ApiRequest) -> Result:
    """``GET /clients/{id}/listsforemail.json?email=``."""
    return 200, a.lists_for_email_to_api(r.groups[0], r.args.get("email"), r.scope)


def client_segments(a: Account, r: ApiRequest) -> Result:
    """``GET /clients/{id}/segments.json``."""
    a.client_row(r.groups[0], r.scope)
    return 200, a.segments_to_api(client_id=r.groups[0])


def client_templates(a: Account, r: ApiRequest) -> Result:
    """``GET /clients/{id}/templates.json`` (templates are not modelled: always empty)."""
    a.client_row(r.groups[0], r.scope)
    return 200, []


def get_people(a: Account, r: ApiRequest) -> Result:
    """``GET /clients/{id}/people.json`` (or one with ``?email=``)."""
    if r.args.get("email"):
        a.client_row(r.groups[0], r.scope)
        p = a.person_row(r.groups[0], r.args["email"])
        return 200, {
            "EmailAddress": p["email"],
            "Name": p["name"],
            "AccessLevel": p["access_level"],
            "Status": p["status"],
        }
    return 200, a.people_to_api(r.groups[0], r.scope)


def add_person(a: Account, r: ApiRequest) -> Result:
    """``POST /clients/{id}/people.json``."""
    b = r.body()
    level = b.get("AccessLevel", 1023)
    return 201, a.add_person(
        r.groups[0], str(b.get("EmailAddress", "")), str(b.get("Name", "")), level, r.scope
    )


def update_person(a: Account, r: ApiRequest) -> Result:
    """``PUT /clients/{id}/people.json?email=``."""
    a.client_row(r.groups[0], r.scope)
    a.person_row(r.groups[0], r.args.get("email", ""))
    b = r.body()
    a.remove_person(r.groups[0], r.args["email"], r.scope)
    level = b.get("AccessLevel", 1023)
    return 200, a.add_person(
        r.groups[0], str(b.get("EmailAddress", "")), str(b.get("Name", "")), level, r.scope
    )


def delete_person(a: Account, r: ApiRequest) -> Result:
    """``DELETE /clients/{id}/people.json?email=``."""
    a.remove_person(r.groups[0], r.args.get("email", ""), r.scope)
    return 200, None


def client_primary_contact(a: Account, r: ApiRequest) -> Result:
    """``GET``/``PUT /clients/{id}/primarycontact.json``."""
    a.client_row(r.groups[0], r.scope)
    if r.method == "PUT":
        return 200, a.set_primary_contact(r.args.get("email", ""), r.groups[0])
    return 200, {"EmailAddress": a.primary_contact(r.groups[0])}


def suppression_list(a: Account, r: ApiRequest) -> Result:
    """``GET /clients/{id}/suppressionlist.json``."""
    return 200, a.suppression_list_to_api(r.groups[0], r.args, r.scope)


def suppress(a: Account, r: ApiRequest) -> Result:
    """``POST /clients/{id}/suppress.json``."""
    a.suppress(r.groups[0], r.body().get("EmailAddresses"), r.scope)
    return 200, None


def unsuppress(a: Account, r: ApiRequest) -> Result:
    """``PUT /clients/{id}/unsuppress.json?email=``."""
    a.unsuppress(r.groups[0], r.args.get("email"), r.scope)
    return 200, None


# -- lists and custom fields ----------------------------------------------------------------
def create_list(a: Account, r: ApiRequest) -> Result:
    """``POST /lists/{clientid}.json``."""
    b = r.body()
    return 201, a.create_list(
        r.groups[0], b.get("Title", ""), unsubscribe_page=b.get("UnsubscribePage") or "",
        unsubscribe_setting=b.get("UnsubscribeSetting") or "AllClientLists",
        confirmed_opt_in=bool(b.get("ConfirmedOptIn")),
        confirmation_success_page=b.get("ConfirmationSuccessPage") or "", scope=r.scope,
    )  # fmt: skip


def list_details(a: Account, r: ApiRequest) -> Result:
    """``GET /lists/{id}.json``."""
    return 200, a.list_details_to_api(r.groups[0], r.scope)


def update_list(a: Account, r: ApiRequest) -> Result:
    """``PUT /lists/{id}.json``."""
    a.update_list(r.groups[0], r.body(), r.scope)
    return 200, None


def delete_list(a: Account, r: ApiRequest) -> Result:
    """``DELETE /lists/{id}.json``."""
    a.delete_list(r.groups[0], r.scope)
    return 200, None


def list_stats(a: Account, r: ApiRequest) -> Result:
    """``GET /lists/{id}/stats.json``."""
    return 200, a.list_stats_to_api(r.groups[0], r.scope)


def list_state(a: Account, r: ApiRequest) -> Result:
    """``GET /lists/{id}/{active|unconfirmed|unsubscribed|bounced|deleted}.json``."""
    return 200, a.subscribers_page(r.groups[0], r.groups[1].capitalize(), r.args, r.scope)


def list_segments(a: Account, r: ApiRequest) -> Result:
    """``GET /lists/{id}/segments.json``."""
    a.list_row(r.groups[0], r.scope)
    return 200, a.segments_to_api(list_id=r.groups[0])


def get_custom_fields(a: Account, r: ApiRequest) -> Result:
    """``GET /lists/{id}/customfields.json``."""
    return 200, a.custom_fields_to_api(r.groups[0], r.scope)


def create_custom_field(a: Account, r: ApiRequest) -> Result:
    """``POST /lists/{id}/customfields.json``."""
    b = r.body()
    options = b.get("Options") or []
    if not isinstance(options, list):
        raise api_error(400, "Options must be a list")
    return 201, a.create_custom_field(
        r.groups[0], b.get("FieldName", ""), b.get("DataType", ""), options,
        b.get("VisibleInPreferenceCenter", True) is not False, r.scope,
    )  # fmt: skip


def update_custom_field(a: Account, r: ApiRequest) -> Result:
    """``PUT /lists/{id}/customfields/{key}.json``."""
    b = r.body()
    visible = b.get("VisibleInPreferenceCenter", True) is not False
    return 200, a.update_custom_field(
        r.groups[0], r.key(1), b.get("FieldName", ""), visible, r.scope
    )


def update_field_options(a: Account, r: ApiRequest) -> Result:
    """``PUT /lists/{id}/customfields/{key}/options.json``."""
    b = r.body()
    a.update_custom_field_options(
        r.groups[0], r.key(1), b.get("Options"), bool(b.get("KeepExistingOptions")), r.scope
    )
    return 200, None


def delete_custom_field(a: Account, r: ApiRequest) -> Result:
    """``DELETE /lists/{id}/customfields/{key}.json``."""
    a.delete_custom_field(r.groups[0], r.key(1), r.scope)
    return 200, None


# -- subscribers ------------------------------------------------------------------------------
def get_subscriber(a: Account, r: ApiRequest) -> Result:
    """``GET /subscribers/{listid}.json?email=``."""
    return 200, a.subscriber_details_to_api(r.groups[0], r.args.get("email"), r.args, r.scope)


def add_subscriber(a: Account, r: ApiRequest) -> Result:
    """``POST /subscribers/{listid}.json``."""
    return 201, a.add_subscriber(r.groups[0], r.json(), r.scope)


def update_subscriber(a: Account, r: ApiRequest) -> Result:
    """``PUT /subscribers/{listid}.json?email=``."""
    a.update_subscriber(r.groups[0], r.args.get("email"), r.json(), r.scope)
    return 200, None


def delete_subscriber(a: Account, r: ApiRequest) -> Result:
    """``DELETE /subscribers/{listid}.json?email=``."""
    a.delete_subscriber(r.groups[0], r.args.get("email"), r.scope)
    return 200, None


def import_subscribers(a: Account, r: ApiRequest) -> Result:
    """``POST /subscribers/{listid}/import.json``."""
    return 200, a.import_subscribers(r.groups[0], r.json(), r.scope)


def unsubscribe(a: Account, r: ApiRequest) -> Result:
    """``POST /subscribers/{listid}/unsubscribe.json``."""
    a.unsubscribe(r.groups[0], r.json(), r.scope)
    return 200, None


def subscriber_history(a: Account, r: ApiRequest) -> Result:
    """``GET /subscribers/{listid}/history.json?email=``."""
    return 200, a.history_to_api(r.groups[0], r.args.get("email"), r.scope)
