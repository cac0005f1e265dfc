"""The pagination envelope and the validation of ``page``/``pagesize``/``order*``.

Every paged endpoint answers::

    {"Results": [...], "ResultsOrderedBy": "email", "OrderDirection": "asc",
     "PageNumber": 1, "PageSize": 1000, "RecordsOnThisPage": 5,
     "TotalNumberOfRecords": 5, "NumberOfPages": 1}

Invalid values give 400 with codes 800 (page), 801 (page size, 10-1000), 802 (order
field) and 803 (order direction). The echo casing differs per endpoint family, so the
caller says how to spell the echoed field and direction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cm_sim.exceptions import api_error

__all__ = ["Page", "envelope", "parse_paging"]


@dataclass(frozen=True)
class Page:
    """Validated paging parameters of one request.

    Attributes:
        number: 1-based page number.
        size: Rows per page (10-1000).
        field: Lower-case order field (``email``, ``name``, ``date``).
        direction: ``asc`` or ``desc``.
    """

    number: int
    size: int
    field: str
    direction: str

    @property
    def offset(self) -> int:
        """Rows to skip."""
        return (self.number - 1) * self.size

    @property
    def descending(self) -> bool:
        """Whether the order is descending."""
        return self.direction == "desc"


def _int(value: str | None, default: int, code: int) -> int:
    if value is None or value.strip() == "":
        return default
    try:
        return int(value.strip())
    except ValueError:
        raise api_error(code) from None


def parse_paging(
    args: Mapping[str, str],
    *,
    default_field: str,
    default_direction: str,
    fields: tuple[str, ...] = ("email", "name", "date"),
) -> Page:
    """Validate the paging query parameters.

    Args:
        args: The query string.
        default_field: Order field when none is given.
        default_direction: Order direction when none is given.
        fields: Order fields this endpoint accepts.

    Returns:
        The validated paging parameters.

    Raises:
        CmApiError: 800, 801, 802 or 803 for invalid values.
    """
    number = _int(args.get("page"), 1, 800)
    if number < 1:
        raise api_error(800)
    size = _int(args.get("pagesize"), 1000, 801)
    if not 10 <= size <= 1000:
        raise api_error(801)
    field = (args.get("orderfield") or default_field).strip().lower()
    if field not in fields:
        raise api_error(802)
    direction = (args.get("orderdirection") or default_direction).strip().lower()
    if direction not in ("asc", "desc"):
        raise api_error(803)
    return Page(number, size, field, direction)


def envelope(
    page: Page,
    total: int,
    fetch: Callable[[int, int], list[dict[str, Any]]],
    *,
    field_echo: Mapping[str, str] | None = None,
    upper_direction: bool = False,
) -> dict[str, Any]:
    """Build the paged body, fetching only the rows of the requested page.

    Args:
        page: Validated paging parameters.
        total: Number of rows across all pages.
        fetch: ``fetch(limit, offset)`` returning the rows of the page, already rendered.
        field_echo: How this endpoint spells each order field in ``ResultsOrderedBy``.
        upper_direction: Echo ``ASC``/``DESC`` (journey endpoints) instead of lower case.

    Returns:
        The envelope dict.
    """
    rows = fetch(page.size, page.offset) if page.offset < total else []
    pages = -(-total // page.size)
    direction = page.direction.upper() if upper_direction else page.direction
    return {
        "Results": rows,
        "ResultsOrderedBy": (field_echo or {}).get(page.field, page.field),
        "OrderDirection": direction,
        "PageNumber": page.number,
        "PageSize": page.size,
        "RecordsOnThisPage": len(rows),
        "TotalNumberOfRecords": total,
        "NumberOfPages": pages,
    }
