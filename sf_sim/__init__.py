"""sf_sim: an in-process Salesforce org that simple-salesforce talks to unchanged.

>>> from sf_sim import Org
>>> org = Org()
>>> with org.activate() as sf:                        # doctest: +SKIP
...     sf.Contact.create({"LastName": "Lee"})
"""

from __future__ import annotations

from sf_sim.activation import Org
from sf_sim.control import TriggerContext
from sf_sim.exceptions import QueryError, RecordError, SalesforceApiError, SfSimError
from sf_sim.records import SaveResult

__all__ = [
    "Org",
    "QueryError",
    "RecordError",
    "SalesforceApiError",
    "SaveResult",
    "SfSimError",
    "TriggerContext",
]
