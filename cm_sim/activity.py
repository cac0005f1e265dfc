"""Reading recipients and activity (opens, clicks, unsubscribes, bounces, spam) page by page.

Campaigns, journey emails and transactional messages all store their recipients and
events in two tables (``recipients``, ``activity``) keyed by ``source``/``source_id``.
Every read shows only rows stamped at or before the current virtual time, so activity
generated "in the future" appears exactly when its moment comes.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from cm_sim.paging import envelope, parse_paging
from cm_sim.store import Store
from cm_sim.times import parse_filter_date, wire_minute

__all__ = ["activity_page", "activity_row_to_api", "recipients_page"]

_GEO = ("IPAddress", "Latitude", "Longitude", "City", "Region", "CountryCode", "CountryName")


def activity_row_to_api(
    kind: str, r: dict[str, Any], tz: tzinfo, with_list: bool
) -> dict[str, Any]:
    """One activity row in the shape of ``campaign_{kind}.json`` (without ListID for journeys)."""
    out: dict[str, Any] = {"EmailAddress": r["email"]}
    if kind == "click":
        out["URL"] = r["url"]
    if with_list:
        out["ListID"] = r["list_id"]
    if kind == "bounce":
        out["BounceType"] = r["bounce_type"]
        out["Date"] = wire_minute(int(r["ts"]), tz)
        out["Reason"] = r["reason"]
        return out
    out["Date"] = wire_minute(int(r["ts"]), tz)
    if kind == "spam":
        return out
    out["IPAddress"] = r["ip"]
    if kind == "unsubscribe":
        return out
    geo = (r["lat"], r["lon"], r["city"], r["region"], r["country_code"], r["country_name"])
    out.update(dict(zip(_GEO[1:], geo, strict=True)))
    return out


def activity_page(
    store: Store,
    now: int,
    source: str,
    source_id: str,
    kind: str,
    args: dict[str, str],
    tz: tzinfo,
    *,
    journey: bool = False,
) -> dict[str, Any]:
    """A paged, date-filtered activity read.

    Args:
        store: The account store.
        now: Current virtual time (rows after it are not shown yet).
        source: ``campaign`` or ``journey``.
        source_id: Campaign ID or journey email ID.
        kind: ``open``, ``click``, ``unsubscribe``, ``bounce`` or ``spam``.
        args: Query string (``date``, ``page``, ``pagesize``, ``orderfield``, ``orderdirection``).
        tz: Client time zone.
        journey: Journey-email conventions (no ListID, ``Date``/``ASC`` echo, no orderfield).

    Returns:
        The paged envelope.

    Raises:
        CmApiError: 800-803 for bad paging; 400 for a bad ``date``.
    """
    page = parse_paging(
        {k: v for k, v in args.items() if not (journey and k == "orderfield")},
        default_field="date",
        default_direction="asc",
        fields=("date", "email"),
    )
    since = _since(args, tz)
    where = "source = ? AND source_id = ? AND kind = ? AND ts <= ? AND ts >= ?"
    params: list[Any] = [source, source_id, kind, now, since]
    total = store.count(f"SELECT COUNT(*) FROM activity WHERE {where}", params)
    direction = "DESC" if page.descending else "ASC"
    order = f"ts {direction}, id {direction}" if page.field == "date" else f"email {direction}, ts"

    def fetch(limit: int, offset: int) -> list[dict[str, Any]]:
        rows = store.all(
            f"SELECT * FROM activity WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [activity_row_to_api(kind, r, tz, not journey) for r in rows]

    echo = {"date": "Date", "email": "Email"} if journey else {}
    return envelope(page, total, fetch, field_echo=echo, upper_direction=journey)


def _since(args: dict[str, str], tz: tzinfo) -> int:
    from cm_sim.exceptions import api_error

    try:
        bound = parse_filter_date(args.get("date"), tz)
    except ValueError:
        raise api_error(400, "Invalid date, use YYYY-MM-DD or YYYY-MM-DD HH:MM:SS") from None
    return -(2**62) if bound is None else bound


def recipients_page(
    store: Store,
    now: int,
    source: str,
    source_id: str,
    args: dict[str, str],
    tz: tzinfo,
    *,
    journey: bool = False,
) -> dict[str, Any]:
    """Campaign recipients (``{EmailAddress, ListID}``, default ``email asc``, no date filter)
    or journey email recipients (``{EmailAddress, SentDate}``, ``SentDate ASC``, date filter).
    """
    if journey:
        page = parse_paging(
            {k: v for k, v in args.items() if k != "orderfield"},
            default_field="date",
            default_direction="asc",
            fields=("date",),
        )
        since = _since(args, tz)
    else:
        page = parse_paging(
            args, default_field="email", default_direction="asc", fields=("email", "date", "name")
        )
        since = -(2**62)
    where = "source = ? AND source_id = ? AND ts <= ? AND ts >= ?"
    params: list[Any] = [source, source_id, now, since]
    total = store.count(f"SELECT COUNT(*) FROM recipients WHERE {where}", params)
    direction = "DESC" if page.descending else "ASC"
    order = (
        f"ts {direction}, id {direction}"
        if page.field == "date"
        else f"lower(email) {direction}, id {direction}"
    )

    def fetch(limit: int, offset: int) -> list[dict[str, Any]]:
        rows = store.all(
            f"SELECT * FROM recipients WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        if journey:
            return [
                {"EmailAddress": r["email"], "SentDate": wire_minute(int(r["ts"]), tz)}
                for r in rows
            ]
        return [{"EmailAddress": r["email"], "ListID": r["list_id"]} for r in rows]

    echo = {"date": "SentDate"} if journey else {}
    return envelope(page, total, fetch, field_echo=echo, upper_direction=journey)
