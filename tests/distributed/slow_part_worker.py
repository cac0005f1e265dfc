"""A ``cmsf worker`` whose list reads dawdle (so a test can change the list mid-read).

Run as ``python slow_part_worker.py [cmsf worker options]``: every page of a list's
subscribers waits half a second before it is read, so a run's list partitions are still
reading while the test unsubscribes and adds subscribers in Campaign Monitor.
"""

from __future__ import annotations

import sys
import time

from cmsf_core.campaign_monitor import CampaignMonitorClient
from cmsf_core.cli import main

original = CampaignMonitorClient.subscriber_pages


def subscriber_pages(self, *args, **kwargs):  # type: ignore[no-untyped-def]
    for page in original(self, *args, **kwargs):
        time.sleep(0.5)
        yield page


CampaignMonitorClient.subscriber_pages = subscriber_pages  # type: ignore[method-assign]
sys.exit(main(["worker", *sys.argv[1:]]))
