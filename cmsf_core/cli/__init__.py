"""``cmsf``: the command line of the sync engine (thin commands over cmsf_core).

Every command works on the embedded default (simulators in ``./.cmsf/``) unless told
otherwise with ``--org-db/--account-db``, ``--config`` or ``CMSF_*`` variables; these
global options go before or after the command. Every command ends with an exit code of
:class:`~cmsf_core.exit_codes.ExitCode`; errors a user can fix are one line, never a
traceback.

Modules: :mod:`~cmsf_core.cli.base` (group, global options, endings),
:mod:`~cmsf_core.cli.sync`, :mod:`~cmsf_core.cli.imports` (the import wizard),
:mod:`~cmsf_core.cli.views` (status, messages, clients, lists), :mod:`~cmsf_core.cli.scanners`,
:mod:`~cmsf_core.cli.admin` (settings screens' operations), :mod:`~cmsf_core.cli.transactional`
(send-smart-email, watch, delete-process), :mod:`~cmsf_core.cli.dashboard` and
:mod:`~cmsf_core.cli.org` (setup, doctor, uninstall).
"""

from __future__ import annotations

import click

from cmsf_core.cli.admin import (
    clear_history,
    connect,
    create_list,
    disconnect,
    import_subscriber,
    reconnect,
    reset_settings,
    security_owner,
    set_bulk_actions,
    settings,
    sync_user,
)
from cmsf_core.cli.base import CmsfGroup, global_options
from cmsf_core.cli.imports import import_group, imports_alias
from cmsf_core.cli.org import doctor, setup, uninstall
from cmsf_core.cli.scanners import scanners
from cmsf_core.cli.sync import sync
from cmsf_core.cli.transactional import delete_process, send_smart_email, watch
from cmsf_core.cli.views import clients, lists, messages, status
from cmsf_core.cli.worker import worker

__all__ = ["main"]


@click.group(cls=CmsfGroup, context_settings={"help_option_names": ["-h", "--help"]})
@global_options(root=True)
def main() -> None:
    """Campaign Monitor for Salesforce: sync a Campaign Monitor account into a Salesforce org.

    With no configuration every command runs on the embedded default: a simulated org
    and a seeded simulated Campaign Monitor account in ./.cmsf/ (created on first use).
    Global options may come before or after the command.

    \b
    Exit codes: 0 completed; 1 failed; 2 usage or configuration error;
    3 completed with errors; 4 stopped (API budget, rate limit, sandbox, storage full;
    resumes next run); 5 waiting for a Bulk API job (collected next run); 130
    interrupted or declined.

    \b
    Examples:
      cmsf sync                                  # full primary sync on the embedded default
      cmsf status --home /srv/cmsf/.cmsf
      cmsf --org-db org.db --account-db acct.db sync
      CMSF_SF_USERNAME=... CMSF_SF_PASSWORD=... CMSF_CM_API_KEY=... cmsf sync
    """


for command in (
    setup,
    doctor,
    sync,
    status,
    messages,
    clients,
    lists,
    scanners,
    connect,
    reconnect,
    disconnect,
    sync_user,
    security_owner,
    reset_settings,
    settings,
    set_bulk_actions,
    clear_history,
    import_subscriber,
    create_list,
    import_group,
    imports_alias,
    send_smart_email,
    watch,
    delete_process,
    uninstall,
    worker,
):
    main.add_command(command)
# Imported when named (see CmsfGroup): Flask, and the simulators with the catalogue.
main.add_lazy("dashboard", "cmsf_core.cli.dashboard:dashboard")
main.add_lazy("scenario", "scenarios.cli:scenario")
