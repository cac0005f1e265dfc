"""The cycle collector's thresholds of the long-running processes: ``cmsf`` and the simulators' servers.

A first sync holds large pools of records, pages and shadow rows, and a served simulator
parses, checks and stores hundreds of thousands of records for it: at Python's default
thresholds (700, 10, 10) the collector runs thousands of times in such a sync and walks the
whole heap again and again, while finding next to no cycles (the data is acyclic: dicts,
tuples and strings freed by reference counting). :func:`collect_less` makes a process
collect after 10,000 new container objects instead of 700.
"""

from __future__ import annotations

import gc

__all__ = ["COLLECTOR_THRESHOLDS", "collect_less"]

COLLECTOR_THRESHOLDS = (10_000, 10, 10)
"""The cycle collector's thresholds in a ``cmsf`` process and a served simulator (Python's
default: 700, 10, 10).

At the default, the collector ran some 2,400 times and walked the whole heap 17 times in a
first sync of 30,000 subscribers, a sixth of the engine's CPU; after 10,000 new container
objects it runs about 130 times and walks the heap once. Peak memory is unchanged
(``python -m cmsf_core.bench`` measures both)."""


def collect_less() -> None:
    """Raise the cycle collector's thresholds to :data:`COLLECTOR_THRESHOLDS` (a threshold
    already higher is kept, and a collector turned off stays off)."""
    first, second, third = (
        max(now, wanted)
        for now, wanted in zip(gc.get_threshold(), COLLECTOR_THRESHOLDS, strict=True)
    )
    gc.set_threshold(first, second, third)
