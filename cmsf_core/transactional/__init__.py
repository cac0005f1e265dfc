"""Transactional smart emails sent from Salesforce: mappings, queue items, sends, processes.

A Flow, Apex or ``cmsf send-smart-email`` asks for a send by inserting a
``CMSF_Queue_Item__c`` (``Type__c`` ``Smart Email``, the record, the mapping); the
``smart_email_sends`` job of every run, and ``cmsf watch`` between runs, send them:

- :mod:`~cmsf_core.transactional.mappings`: smart email mappings, checked against the
  smart email's variables and the objects' describes; a record's recipient and data;
- :mod:`~cmsf_core.transactional.items`: the queue items and the process records that
  group bulk requests (``deleteProcess``);
- :mod:`~cmsf_core.transactional.sender`: one crash-safe pass over a batch (mark, send
  once, bookkeeping, retries), with :mod:`~cmsf_core.transactional.tasks` (the Tasks
  recording sends) and :mod:`~cmsf_core.transactional.outcomes` (what each item became,
  the ``CMSF-TX-*`` messages);
- :mod:`~cmsf_core.transactional.settle`: sends whose outcome is unknown, found again in
  Campaign Monitor's message log by the queue item's Id they carry;
- :mod:`~cmsf_core.transactional.service`: the Python API (request and send now, Run
  Test, drain the queue, delete processes) the CLI and tests use.
"""

from __future__ import annotations

from cmsf_core.transactional.sender import Sender, SendOutcome

__all__ = ["SendOutcome", "Sender"]
