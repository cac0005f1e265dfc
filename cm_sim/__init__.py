"""cm_sim: an in-process Campaign Monitor account (API v3.3) for createsend and httpx clients."""

from __future__ import annotations

from cm_sim.activation import Account
from cm_sim.behaviour import ActivityModel, LinkScanner
from cm_sim.exceptions import CmApiError, CmSimError, ControlError
from cm_sim.faults import Fault
from cm_sim.models import BASE_URL

__all__ = [
    "BASE_URL",
    "Account",
    "ActivityModel",
    "CmApiError",
    "CmSimError",
    "ControlError",
    "Fault",
    "LinkScanner",
]
