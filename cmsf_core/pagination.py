"""Paginators for both platforms: one object per paged read, failing on a repeated token.

A paginator holds the token of the next page (``current_value``), learns the following
one from each response (:meth:`advance`) and knows when the read is ``finished``. A page
that hands back a token already seen would loop forever; both paginators raise
:class:`~cmsf_core.errors.PlatformError` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cmsf_core.errors import PlatformError

__all__ = ["NextRecordsUrlPaginator", "PageNumberPaginator"]


class PageNumberPaginator:
    """Campaign Monitor's ``page``/``NumberOfPages`` envelope (1-based pages).

    Args:
        start: First page to request.
    """

    def __init__(self, start: int = 1) -> None:
        self.current_value = start
        self.finished = False
        self.pages_read = 0
        self._seen: set[int] = set()

    def advance(self, response: Mapping[str, Any]) -> None:
        """Learn from a page body; sets :attr:`finished` after the last page.

        Raises:
            PlatformError: If the body is not a paged envelope or repeats a page number.
        """
        try:
            number = int(response["PageNumber"])
            pages = int(response["NumberOfPages"])
        except (KeyError, TypeError, ValueError) as exc:
            raise PlatformError(
                "Campaign Monitor returned a page without PageNumber/NumberOfPages",
                platform="campaign_monitor",
            ) from exc
        if number in self._seen:
            raise PlatformError(
                f"Campaign Monitor returned page {number} twice; stopping to avoid a loop",
                platform="campaign_monitor",
            )
        self._seen.add(number)
        self.pages_read += 1
        if number >= pages or not response.get("Results"):
            self.finished = True
        else:
            self.current_value = number + 1


class NextRecordsUrlPaginator:
    """Salesforce query paging through ``nextRecordsUrl`` until ``done``."""

    def __init__(self) -> None:
        self.current_value: str | None = None
        self.finished = False
        self.pages_read = 0
        self._seen: set[str] = set()

    def advance(self, response: Mapping[str, Any]) -> None:
        """Learn from a query result page.

        Raises:
            PlatformError: If a page is not done but has no ``nextRecordsUrl``, or the
                same locator comes back twice.
        """
        self.pages_read += 1
        if response.get("done", True):
            self.finished = True
            self.current_value = None
            return
        url = response.get("nextRecordsUrl")
        if not isinstance(url, str) or not url:
            raise PlatformError(
                "Salesforce returned an unfinished query page without nextRecordsUrl",
                platform="salesforce",
            )
        if url in self._seen:
            raise PlatformError(
                "Salesforce returned the same query locator twice; stopping to avoid a loop",
                platform="salesforce",
            )
        self._seen.add(url)
        self.current_value = url
