"""The import wizard: reports, list views and SOQL into Campaign Monitor, as their owners.

An import is a ``CMSF_Import__c`` record (:mod:`~cmsf_core.imports.spec`); its rows are
read the way the platform serves them, as the import's owner
(:mod:`~cmsf_core.imports.sources`), turned into subscribers through the push's field
conversions (:mod:`~cmsf_core.imports.convert`), imported in batches of up to 1,000 and
recorded so a crash resumes without importing anything twice
(:mod:`~cmsf_core.imports.runner`, :mod:`~cmsf_core.imports.ledger`), and, with "replace
subscribers on list", followed by the removal of subscribers not in the source
(:mod:`~cmsf_core.imports.replace`). The jobs are in :mod:`cmsf_core.jobs.imports`;
:mod:`~cmsf_core.imports.session` runs them alone (``cmsf import run``).
"""

from __future__ import annotations

from cmsf_core.imports.runner import ImportOutcome, ImportRunner
from cmsf_core.imports.spec import ImportConfigError, ImportSpec, is_due, next_run

__all__ = ["ImportConfigError", "ImportOutcome", "ImportRunner", "ImportSpec", "is_due", "next_run"]
