"""cmsf_core: the Campaign Monitor for Salesforce sync engine.

Also home of the two small pieces every package of the project shares: the clock
(:mod:`cmsf_core.clock`) and the loopback server for the simulators
(:mod:`cmsf_core.serving`).
"""

from __future__ import annotations

from cmsf_core.clock import Clock, SystemClock, VirtualClock

__all__ = ["Clock", "SystemClock", "VirtualClock"]
