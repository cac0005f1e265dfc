"""The state of one scenario being played: world, engine, names and what happened so far.

Events, invariants and figures receive the :class:`Play`. It resolves the names a
scenario uses for things whose ids come from the seed — ``client1``, ``list2``,
``campaign1`` (in the order the world was seeded: with two lists per client, ``list3`` is
the first list of ``client2``), names given with ``as:``, and groups of email addresses —
and keeps every run's report and the timeline as played.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any

from cm_sim import Account
from cmsf_core.clock import Clock, VirtualClock
from cmsf_core.engine import Engine
from cmsf_core.runtime import RunReport
from cmsf_core.settings import Settings
from cmsf_core.state import Journal
from scenarios.errors import ScenarioStepError
from scenarios.faults import RunFaults
from scenarios.spec import Scenario, format_offset
from scenarios.world import World, engine_for
from sf_sim import Org

__all__ = ["Play", "RunRecord"]

_BRACED = re.compile(r"\{([A-Za-z][A-Za-z0-9_-]*)\}")


@dataclass
class RunRecord:
    """One sync run as the scenario saw it.

    Attributes:
        number: 1 for the first run of the scenario.
        kind: ``primary_sync`` or ``full_sync``.
        started: Offset from the scenario start when it began.
        finished: Offset when it ended (retries and slow answers move the clock).
        report: The engine's report (None when the engine refused to start).
        status: The run's status, or ``refused`` when the engine raised.
        reason: Why it stopped, failed or was refused.
        org_id: The org it ran against (a sandbox after a refresh).
        requests: ``(seconds from start, platform, method, path)`` of every API request
            it made, logins included.
        faults: The in-run faults armed for it, and where they fired.
        write_requests: ``(object, api)`` of every Salesforce write request it made, with
            ``api`` one of ``bulk`` (a Bulk API ingest job created), ``collections`` (an
            sObject Collections call) or ``rest`` (one record).
    """

    number: int
    kind: str
    started: timedelta
    finished: timedelta
    report: RunReport | None
    status: str
    reason: str | None
    org_id: str
    requests: list[tuple[int, str, str, str]] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    write_requests: list[tuple[str, str]] = field(default_factory=list)

    @property
    def calls(self) -> dict[str, int]:
        """API calls per platform made by the run."""
        if self.report is None:
            return {"salesforce": 0, "campaign_monitor": 0}
        return dict(self.report.calls)


class Play:
    """A scenario in progress.

    Args:
        scenario: What is played.
        world: The world built for it.
        clock: The shared virtual clock.
        hook_module: The scenario's sibling Python module, if it has one.
        engine: The engine (by default one wired to the world's simulators).
        live: The world is a real org and account (time cannot be skipped).
    """

    def __init__(
        self,
        scenario: Scenario,
        world: World,
        clock: Clock,
        hook_module: ModuleType | None = None,
        *,
        engine: Engine | None = None,
        live: bool = False,
    ) -> None:
        self.scenario = scenario
        self.world = world
        self.clock = clock
        self.start: datetime = clock.now()
        self.hook_module = hook_module
        self.production_org: Org = world.org
        self.orgs: list[Org] = [world.org]
        self.accounts: list[Account] = [world.account]
        self.journal = Journal()
        self.faults = RunFaults(self)
        self.engine: Engine = engine or self._engine()
        self.live = live
        self.runs: list[RunRecord] = []
        self.groups: dict[str, list[str]] = {}
        self.refs: dict[str, tuple[str, str]] = {}
        self.cleanups: list[Callable[[], None]] = []
        for kind, key in (
            ("client", "clients"),
            ("list", "lists"),
            ("campaign", "campaigns"),
            ("smart_email", "smart_emails"),
        ):
            for index, value in enumerate(world.summary.get(key, []), start=1):
                self.refs[f"{kind}{index}"] = (kind, str(value))

    # ------------------------------------------------------------------ time

    @property
    def account(self) -> Account:
        """The Campaign Monitor account."""
        return self.world.account

    @property
    def org(self) -> Org:
        """The org the engine runs against now (the sandbox after a refresh)."""
        return self.world.org

    def move_clock_to(self, when: datetime) -> None:
        """Set the virtual clock to ``when`` if it is later (live runs cannot skip time)."""
        if isinstance(self.clock, VirtualClock) and self.clock.now() < when:
            self.clock.set(when)

    def elapsed(self) -> timedelta:
        """Virtual time since the scenario started."""
        return self.clock.now() - self.start

    def offset_text(self, when: datetime | None = None) -> str:
        """``+1h05m`` for ``when`` (now by default)."""
        return format_offset((when or self.clock.now()) - self.start)

    # ------------------------------------------------------------------ names

    def name(self, alias: str, value: str, kind: str) -> None:
        """Give ``value`` (an id of ``kind``) a name usable later in the scenario.

        Raises:
            ScenarioStepError: If the name is already used for something else.
        """
        existing = self.refs.get(alias)
        if existing is not None and existing != (kind, value):
            raise ScenarioStepError(f"the name {alias!r} is already used for a {existing[0]}")
        self.refs[alias] = (kind, value)

    def ref(self, alias: str, kind: str) -> str:
        """The id behind ``alias`` (a 32-hex id is accepted as itself).

        Raises:
            ScenarioStepError: For an unknown name or a name of another kind.
        """
        found = self.refs.get(alias)
        if found is None:
            if len(alias) == 32 and all(c in "0123456789abcdef" for c in alias):
                return alias
            known = sorted(a for a, (k, _) in self.refs.items() if k == kind)
            raise ScenarioStepError(
                f"no {kind} is called {alias!r}; known: {', '.join(known) or 'none'}"
            )
        if found[0] != kind:
            raise ScenarioStepError(f"{alias!r} is a {found[0]}, not a {kind}")
        return found[1]

    def alias_of(self, kind: str, value: str) -> str:
        """The first name of an id (the id itself if it has none)."""
        for alias, (k, v) in self.refs.items():
            if k == kind and v == value:
                return alias
        return value

    def expand(self, text: str) -> str:
        """Replace ``{name}`` in a SOQL condition with the id behind the name.

        Raises:
            ScenarioStepError: For an unknown name.
        """

        def one(match: re.Match[str]) -> str:
            """The id behind one braced name."""
            found = self.refs.get(match.group(1))
            if found is None:
                raise ScenarioStepError(
                    f"no list, client or campaign is called {match.group(1)!r} in {text!r}"
                )
            return found[1]

        return _BRACED.sub(one, text)

    def emails(self, value: str | list[str]) -> list[str]:
        """Email addresses given as a list or as the name of a group (lower-cased).

        Raises:
            ScenarioStepError: For an unknown group.
        """
        if isinstance(value, list):
            return [e.strip().lower() for e in value]
        if value not in self.groups:
            known = ", ".join(sorted(self.groups)) or "none"
            raise ScenarioStepError(f"no group of emails is called {value!r}; known: {known}")
        return list(self.groups[value])

    # ------------------------------------------------------------------ engine

    def settings(self) -> Settings:
        """The settings stored in the org the engine runs against."""
        return self.engine.settings()

    def _engine(self) -> Engine:
        """An engine on the world's simulators, with the request hooks of in-run faults."""
        return engine_for(
            self.world,
            journal=self.journal,
            on_gateway=self.faults.on_gateway,
            on_cm_request=self.faults.campaign_monitor_request,
        )

    def point_engine_at(self, org: Org, *, keep_journal: bool = False) -> None:
        """Run the engine against another org (a sandbox copy), with a fresh journal or not."""
        self.world.org = org
        if org not in self.orgs:
            self.orgs.append(org)
        if not keep_journal:
            self.journal = Journal()
        self.engine = self._engine()

    def point_engine_at_account(self, account: Account) -> None:
        """Give the engine credentials of another Campaign Monitor account (same journal)."""
        self.world.account = account
        if account not in self.accounts:
            self.accounts.append(account)

    def hook(self, name: str) -> Callable[..., Any]:
        """A function of the scenario's hook module.

        Raises:
            ScenarioStepError: If there is no hook module or no such function.
        """
        fn = getattr(self.hook_module, name, None) if self.hook_module else None
        if not callable(fn):
            raise ScenarioStepError(
                f"{self.scenario.hook_path.name} defines no function {name!r}"
                if self.hook_module
                else f"{self.scenario.name} has no hook module {self.scenario.hook_path.name}"
            )
        return fn  # type: ignore[no-any-return]

    def close(self) -> None:
        """Close the world's stores and any sandbox copies."""
        for org in self.orgs[1:]:
            org.close()
        for account in self.accounts[1:]:
            account.close()
        self.world.org = self.production_org
        self.world.account = self.accounts[0]
        self.world.close()
