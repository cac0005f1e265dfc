"""Benchmark of link-scanner detection: precision and recall over a seeded world.

``python -m cmsf_core.scanners_bench`` builds a simulated Campaign Monitor account whose
subscribers sit on free-mail and company domains, puts spam-filter link scanners of
several kinds in front of some company domains (cm_sim's scanner model: at delivery or
minutes later, all at once or spread over the domain, with or without the pixel, with
or without the resubscribe click, for all or part of the domain), sends campaigns with
generated human activity (people who read, click and unsubscribe by hand, on scanned
domains too), and runs the real primary sync into a simulated org on a schedule (hourly
after a send, then every six hours), all in virtual time.

It then compares every unsubscribe the org's tracking history holds with the
simulator's ground truth (a scanner's events carry the mail client ``Link scanner``) and
prints how many scanner and human unsubscribes were flagged (recall on scanners, false
positives on humans, precision), recall per kind of scanner, and the extra Campaign
Monitor reads the detector made. The issue's done criterion is recall >= 95% and false
positives < 1%; ``--check`` exits 1 when the run misses it.

Usage: ``python -m cmsf_core.scanners_bench [--subscribers 10000] [--campaigns 4]
[--seed 11] [--threshold 60] [--check]``.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cm_sim import Account, ActivityModel
from cm_sim.behaviour import SCANNER_CLIENT
from cmsf_core.campaign_monitor import CampaignMonitorClient
from cmsf_core.clock import VirtualClock, parse_instant
from cmsf_core.data_model import OBJECTS_DIR
from cmsf_core.engine import Engine
from cmsf_core.scanners import minute
from cmsf_core.state import Journal
from sf_sim import Org

__all__ = ["Outcome", "ScannerKind", "main", "run"]

FREE_MAIL = (("gmail.com", 0.22), ("outlook.com", 0.08), ("yahoo.com", 0.06),
             ("icloud.com", 0.04), ("hotmail.com", 0.03))  # fmt: skip
"""Consumer mailbox providers and their share of subscribers."""
READING_HOURS = (1.0, 3.0, 12.0, 24.0)
"""Mean hours from delivery to a first open, one per campaign in turn: an alert read at
once, a morning newsletter, a digest, a mail read the next day."""


@dataclass(frozen=True)
class ScannerKind:
    """A kind of link scanner, as mail tools report them, and the ranges its knobs take."""

    name: str
    delay: tuple[int, int]
    spread: tuple[int, int]
    gap: tuple[int, int]
    open_rate: float
    resubscribe_rate: float
    share: tuple[float, float]


KINDS = (
    ScannerKind("at delivery", (1, 10), (0, 30), (1, 1), 0.5, 0.5, (1.0, 1.0)),
    ScannerKind("queued sandbox", (30, 240), (60, 300), (1, 3), 0.5, 0.3, (0.8, 1.0)),
    ScannerKind("no pixel, no resubscribe", (2, 60), (0, 120), (1, 2), 0.0, 0.0, (1.0, 1.0)),
    ScannerKind("part of the domain", (1, 30), (0, 60), (1, 1), 1.0, 1.0, (0.2, 0.6)),
)
"""Delivery-time gateways (Safe Links-like), sandboxes that scan minutes later
(Proofpoint-like), gateways that load nothing but links, and filters on part of a
domain (some mailboxes only)."""


@dataclass
class Outcome:
    """What the detector found against the ground truth."""

    scanner: int = 0
    scanner_flagged: int = 0
    human: int = 0
    human_flagged: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=dict)
    scores: dict[str, Counter[int]] = field(
        default_factory=lambda: {"scanner": Counter(), "human": Counter()}
    )
    checks: int = 0
    cm_calls: int = 0
    runs: int = 0
    statuses: Counter[str] = field(default_factory=Counter)

    @property
    def recall(self) -> float:
        """Share of scanner unsubscribes flagged."""
        return self.scanner_flagged / self.scanner if self.scanner else 1.0

    @property
    def false_positives(self) -> float:
        """Share of human unsubscribes flagged."""
        return self.human_flagged / self.human if self.human else 0.0

    @property
    def precision(self) -> float:
        """Share of flagged unsubscribes that are scanners."""
        flagged = self.scanner_flagged + self.human_flagged
        return self.scanner_flagged / flagged if flagged else 1.0


def _people(reading_hours: float) -> ActivityModel:
    """People: more unsubscribes than a healthy list, so false positives have room to show."""
    return ActivityModel(
        open_rate=0.45, click_rate=0.35, unsubscribe_rate=0.08, spread_hours=reading_hours
    )


def _domains(rng: random.Random, companies: int) -> list[tuple[str, float]]:
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(companies)]
    scale = (1.0 - sum(share for _, share in FREE_MAIL)) / sum(weights)
    named = [
        (f"{rng.choice('bcdfghklmnprstvz')}{i}corp.example", w * scale)
        for i, w in enumerate(weights)
    ]
    return [*FREE_MAIL, *named]


def _world(
    subscribers: int, seed: int, clock: VirtualClock
) -> tuple[Account, Org, list[str], dict[str, str]]:
    rng = random.Random(seed)
    account = Account(clock=clock, seed=seed, kind="direct", test_account=True)
    client = account.create_client("Bench Co")
    lists = [
        account.create_list(client, "Newsletter", unsubscribe_setting="OnlyThisList"),
        account.create_list(client, "Offers", unsubscribe_setting="OnlyThisList"),
        account.create_list(client, "Events", unsubscribe_setting="AllClientLists"),
    ]
    domains = _domains(rng, max(20, subscribers // 60))
    names, shares = zip(*domains, strict=True)
    companies = [d for d in names if d.endswith("corp.example")]
    scanned = rng.sample(companies, k=max(4, len(companies) // 6))
    kinds: dict[str, str] = {}
    for index, domain in enumerate(scanned):
        kind = KINDS[index % len(KINDS)]
        kinds[domain] = kind.name
        account.register_link_scanner(
            domain,
            share=round(rng.uniform(*kind.share), 2),
            delay_seconds=rng.randint(*kind.delay),
            spread_seconds=rng.randint(*kind.spread),
            click_gap_seconds=rng.randint(*kind.gap),
            open_rate=kind.open_rate,
            resubscribe_rate=kind.resubscribe_rate,
        )
    for i, domain in enumerate(rng.choices(names, weights=shares, k=subscribers)):
        email = f"person{i}@{domain}"
        account.add_subscriber_at(rng.choice(lists), email)
        if rng.random() < 0.15:  # some people are on a second list
            other = rng.choice(lists)
            if account.subscriber_row(other, email) is None:
                account.add_subscriber_at(other, email)
    org = Org(clock=clock, seed=seed, metadata=[OBJECTS_DIR], api_limit=5_000_000)
    return account, org, lists, kinds


def run(
    subscribers: int = 10_000, campaigns: int = 4, *, seed: int = 11, threshold: int = 60
) -> Outcome:
    """Play the world and measure the detector (see the module docstring)."""
    clock = VirtualClock("2026-03-02T08:00:00Z")
    account, org, lists, kinds = _world(subscribers, seed, clock)
    rng = random.Random(seed + 1)
    engine = Engine(
        salesforce=org.client,
        campaign_monitor=lambda: CampaignMonitorClient(
            api_key=account.api_key, transport=account.transport(), clock=clock
        ),
        journal=Journal(),
        clock=clock,
    )
    engine.connect(test_account=True)
    engine.change_settings({"opt_out_sync": True, "scanner_threshold": threshold})
    outcome = Outcome()

    def sync() -> None:
        report = engine.sync()
        outcome.runs += 1
        outcome.statuses[report.status] += 1
        outcome.cm_calls += report.calls.get("campaign_monitor", 0)
        outcome.checks += sum(
            n for name, n in report.stats.read.items() if name.endswith("(scanner check)")
        )

    sync()
    for number in range(campaigns):
        clock.advance(minutes=rng.randint(5, 55), seconds=rng.randint(0, 59))
        chosen = rng.sample(lists, k=rng.randint(1, 2))
        links = [f"https://bench.example/{number}/{i}" for i in range(rng.randint(1, 6))]
        account.use_activity_model(_people(READING_HOURS[number % len(READING_HOURS)]))
        account.send_campaign_now(chosen, name=f"Campaign {number + 1}", links=links)
        for _ in range(3):
            clock.advance(hours=1)
            sync()
        for _ in range(12):
            clock.advance(hours=6)
            sync()
    _score(account, org, kinds, outcome)
    account.close()
    org.close()
    return outcome


def _score(account: Account, org: Org, kinds: dict[str, str], outcome: Outcome) -> None:
    truth: dict[tuple[str, str, str, datetime], bool] = {}
    for row in account.store.all(
        "SELECT source_id, email, list_id, ts, mail_client FROM activity "
        "WHERE source = 'campaign' AND kind = 'unsubscribe' AND ts <= ?",
        (account.now_ts(),),
    ):
        key = (
            str(row["source_id"]),
            str(row["email"]).lower(),
            str(row["list_id"]),
            minute(datetime.fromtimestamp(int(row["ts"]), tz=UTC)),
        )
        truth[key] = truth.get(key, False) or row["mail_client"] == SCANNER_CLIENT
    with org.activate() as sf:
        list_ids = {r["Id"]: r["CM_Id__c"] for r in sf.query_all(
            "SELECT Id, CM_Id__c FROM CMSF_List__c")["records"]}  # fmt: skip
        campaign_ids = {r["Id"]: r["CM_Id__c"] for r in sf.query_all(
            "SELECT Id, CM_Id__c FROM CMSF_Campaign__c")["records"]}  # fmt: skip
        records = sf.query_all(
            "SELECT Campaign__c, List__c, Email__c, Activity_Date__c, Suspected_Scanner__c, "
            "Scanner_Score__c "
            "FROM CMSF_Email_Activity__c WHERE Activity_Type__c = 'Unsubscribe'"
        )["records"]
    for r in records:
        key = (
            campaign_ids.get(r["Campaign__c"], ""),
            str(r["Email__c"]).lower(),
            list_ids.get(r["List__c"], ""),
            minute(parse_instant(str(r["Activity_Date__c"]))),
        )
        flagged = bool(r["Suspected_Scanner__c"])
        bucket = min(9, int(r["Scanner_Score__c"] or 0) // 10) * 10
        outcome.scores["scanner" if truth.get(key, False) else "human"][bucket] += 1
        if truth.get(key, False):
            outcome.scanner += 1
            outcome.scanner_flagged += flagged
            kind = kinds.get(key[1].rsplit("@", 1)[-1], "?")
            counts = outcome.by_kind.setdefault(kind, [0, 0])
            counts[0] += 1
            counts[1] += flagged
        else:
            outcome.human += 1
            outcome.human_flagged += flagged


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--campaigns", type=int, default=4)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--threshold", type=int, default=60, help="scanner_threshold (1-100)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 unless recall >= 95%% and false positives < 1%%",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.threshold <= 100 or args.subscribers < 100 or args.campaigns < 1:
        parser.error("--threshold is 1-100, --subscribers at least 100, --campaigns at least 1")
    o = run(args.subscribers, args.campaigns, seed=args.seed, threshold=args.threshold)
    print(
        f"world: {args.subscribers:,} subscribers, {args.campaigns} campaigns, seed {args.seed}, "
        f"threshold {args.threshold}; {o.runs} syncs ({dict(o.statuses)})"
    )
    print(
        f"scanner unsubscribes: {o.scanner:>6,}  flagged {o.scanner_flagged:>6,}  recall {o.recall:7.2%}"
    )
    print(
        f"human unsubscribes:   {o.human:>6,}  flagged {o.human_flagged:>6,}  false positives {o.false_positives:7.2%}"
    )
    print(f"precision: {o.precision:.2%}")
    for kind, (total, flagged) in sorted(o.by_kind.items()):
        share = flagged / total if total else 1.0
        print(f"  {kind:<26} {flagged:>5,} of {total:>5,} flagged ({share:.1%})")
    print("score      " + " ".join(f"{b:>5}" for b in range(0, 100, 10)))
    for who in ("scanner", "human"):
        print(f"{who:<10} " + " ".join(f"{o.scores[who][b]:>5}" for b in range(0, 100, 10)))
    print(
        f"detector reads: {o.checks:,} open/click rows in scanner checks; "
        f"{o.cm_calls:,} Campaign Monitor calls in all"
    )
    met = o.recall >= 0.95 and o.false_positives < 0.01
    print("done criterion (recall >= 95%, false positives < 1%): " + ("met" if met else "NOT met"))
    if args.check and not met:
        sys.exit(1)


if __name__ == "__main__":
    main()
