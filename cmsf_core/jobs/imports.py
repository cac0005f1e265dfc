"""The import wizard's jobs: due imports, then replacing subscribers on their lists.

``imports`` (the product's ``CMImportBatch``/``ListViewImport`` and its hourly scheduler)
runs, as part of every ``cmsf sync``, each import whose schedule is due (``Hourly``: no
run started in this clock hour; ``Daily``: none today, UTC) and every import whose last
run was interrupted; ``cmsf import run`` runs chosen ones (or the due ones) alone. Each
import is one scope: it runs as its owner and records its outcome on its record
(:mod:`cmsf_core.imports.runner`). An import that cannot run fails alone; the others go on.

``import_replace`` then removes, for imports with "replace subscribers on list", the
subscribers of the list that were not in the source, up to the ``import_removals``
governor limit per import and run (:mod:`cmsf_core.imports.replace`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cmsf_core.imports.replace import replace_step
from cmsf_core.imports.runner import ImportRunner, import_ledger, read_imports
from cmsf_core.imports.spec import due_record
from cmsf_core.jobs.base import Job, Scope, register

__all__ = ["SELECTION_KEY", "ImportJob", "ImportReplaceJob", "ImportSelection"]

SELECTION_KEY = "import_selection"
"""``ctx.extras`` key of an :class:`ImportSelection` (``cmsf import run``)."""


@dataclass(frozen=True)
class ImportSelection:
    """Which imports a run runs (the sync's default: the due ones).

    Attributes:
        ids: These imports, due or not (None: the due ones).
        dry_run: Read and convert, send and record nothing.
    """

    ids: tuple[str, ...] | None = None
    dry_run: bool = False


@register
class ImportJob(Job):
    """Run due (or chosen) imports as their owners."""

    name = "imports"
    title = "Import wizard"
    limit = "imports"
    follows = ("import_replace",)

    def start(self) -> Iterable[Scope]:
        ctx = self.ctx
        selection = ctx.extras.get(SELECTION_KEY)
        unfinished = set(import_ledger(ctx).unfinished())
        scopes = []
        if isinstance(selection, ImportSelection) and selection.ids is not None:
            rows = read_imports(ctx, list(selection.ids))
            return [{"key": f"import:{row['Id']}", "import": row["Id"]} for row in rows]
        now = ctx.clock.now()
        rows = read_imports(ctx)
        ledger = import_ledger(ctx)
        for gone in unfinished - {str(row["Id"]) for row in rows}:
            ledger.forget(gone)  # deleted while its run was unfinished
        for row in rows:
            if due_record(row, now) or row["Id"] in unfinished:
                scopes.append({"key": f"import:{row['Id']}", "import": row["Id"]})
        return scopes

    def execute(self, scope: Scope) -> None:
        ctx = self.ctx
        selection = ctx.extras.get(SELECTION_KEY)
        dry_run = isinstance(selection, ImportSelection) and selection.dry_run
        rows = read_imports(ctx, [str(scope["import"])])
        if not rows:
            import_ledger(ctx).forget(str(scope["import"]))  # deleted meanwhile
            return
        outcome = ImportRunner(ctx, self.name).run(rows[0], dry_run=dry_run)
        ctx.extras.setdefault("import_outcomes", {})[str(rows[0]["Id"])] = outcome


@register
class ImportReplaceJob(Job):
    """Remove the subscribers that were not in the source, for imports that replace."""

    name = "import_replace"
    title = "Replace subscribers on list"
    limit = "import_removals"

    def enabled(self) -> bool:
        selection = self.ctx.extras.get(SELECTION_KEY)
        return not (isinstance(selection, ImportSelection) and selection.dry_run)

    def start(self) -> Iterable[Scope]:
        ledger = import_ledger(self.ctx)
        return [
            {"key": f"replace:{import_id}", "import": import_id}
            for import_id in ledger.unfinished()
            if (state := ledger.state(import_id)) is not None and state.phase == "replacing"
        ]

    def execute(self, scope: Scope) -> None:
        ctx = self.ctx
        import_id = str(scope["import"])
        rows = read_imports(ctx, [import_id])
        lists = {x.sf_id: x for x in ctx.directory.lists()}
        lst = lists.get(str(rows[0].get("List__c") or "")) if rows else None
        if not rows or lst is None:
            import_ledger(ctx).forget(import_id)  # the import or its list is gone
            return
        replace_step(ctx, import_id, str(rows[0].get("Name") or import_id), lst.cm_id, self.name)
