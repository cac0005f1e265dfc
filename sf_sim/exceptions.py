"""Platform errors raised by the simulated org, carrying Salesforce's own codes.

Tree::

    SfSimError                    anything sf_sim raises on purpose
    ├── SalesforceApiError        an error the platform returns to an API client
    │   ├── QueryError            MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE, ...
    │   └── RecordError           a DML failure about one record (statusCode in results)
    ├── MetadataError             malformed DX source metadata (sf_sim.metadata)
    ├── StoreError                an org database that cannot be opened (sf_sim.store)
    ├── LoginError                a refused SOAP login, sent as a fault (sf_sim.sessions)
    ├── OAuthError                a refused OAuth token request (sf_sim.oauth)
    ├── AuthorizeError            an OAuth authorization request for an unknown client or
    │                             callback (sf_sim.oauth)
    ├── BatchDataError            Bulk API 1.0 batch data that cannot be read (sf_sim.bulk1_formats)
    └── JobInfoError              a Bulk API 1.0 jobInfo that is not XML (sf_sim.bulk1_formats)

Models raise these; the facade turns them into the wire body in one place
(``[{"message": ..., "errorCode": ..., "fields": [...]}]`` with the HTTP status), and
per-record results in collections, composite and bulk use ``statusCode`` instead of
``errorCode`` (:meth:`SalesforceApiError.to_record_error`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["QueryError", "RecordError", "SalesforceApiError", "SfSimError"]


class SfSimError(Exception):
    """Root of every error sf_sim raises on purpose."""


class SalesforceApiError(SfSimError):
    """An error the Salesforce API would return, with its code and HTTP status.

    Args:
        error_code: Platform code such as ``NOT_FOUND`` or ``INVALID_FIELD``.
        message: The platform's message text.
        status: HTTP status the REST API answers with.
        fields: Field names the error is about.
    """

    def __init__(
        self,
        error_code: str,
        message: str,
        status: int = 400,
        fields: list[str] | None = None,
    ) -> None:
        super().__init__(f"{error_code}: {message}")
        self.error_code = error_code
        self.message = message
        self.status = status
        self.fields = list(fields or [])

    def to_api(self) -> dict[str, Any]:
        """The error as one element of a REST error body."""
        body: dict[str, Any] = {"message": self.message, "errorCode": self.error_code}
        if self.fields:
            body["fields"] = self.fields
        return body

    def to_record_error(self) -> dict[str, Any]:
        """The error as it appears in a per-record result (``statusCode``, always ``fields``)."""
        return {"statusCode": self.error_code, "message": self.message, "fields": self.fields}


class QueryError(SalesforceApiError):
    """A SOQL query the platform refuses (always HTTP 400)."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(error_code, message, status=400)


class RecordError(SalesforceApiError):
    """A DML failure about one record; batch operations report it per record."""
