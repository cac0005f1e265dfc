"""Salesforce -> Campaign Monitor: change capture, subscriber rules, field mappings, the push.

The jobs live in :mod:`cmsf_core.jobs` (``change_capture``, ``subscriber_rules``,
``push``); this package holds what they share: the configuration of a run
(:mod:`~cmsf_core.push.config`, :mod:`~cmsf_core.push.rules`,
:mod:`~cmsf_core.push.mappings`), the journal tables (:mod:`~cmsf_core.push.ledger`), the
queue items (:mod:`~cmsf_core.push.queue`), what counts as a change
(:mod:`~cmsf_core.push.capture`) and the processor that decides and sends
(:mod:`~cmsf_core.push.processor`).
"""

from __future__ import annotations

from cmsf_core.push.capture import note_engine_write
from cmsf_core.push.queue import QueueView, queue_view

__all__ = ["QueueView", "note_engine_write", "queue_view"]
