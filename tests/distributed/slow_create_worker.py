"""A ``cmsf worker`` whose create rule dawdles before creating (to make two workers meet).

Run as ``python slow_create_worker.py [cmsf worker options]``: every call of the create
rule waits a second and a half first, so two workers that matched the same new person at
about the same time both reach the create while the other is still in it.
"""

from __future__ import annotations

import sys
import time

from cmsf_core.cli import main
from cmsf_core.jobs import subscribers

original = subscribers.create_people


def create_people(*args, **kwargs):  # type: ignore[no-untyped-def]
    if args[3]:  # rows to create
        time.sleep(1.5)
    return original(*args, **kwargs)


subscribers.create_people = create_people
sys.exit(main(["worker", *sys.argv[1:]]))
