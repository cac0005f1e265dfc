"""Behaviour models: generated campaign activity, spam-filter link scanners, bounces.

Both models are plain data on the account (``account.activity_model``,
``account.link_scanners``) and are applied when a campaign (or a journey email) is
sent. They draw only from the account's seeded ``random.Random`` and a Faker seeded
from it, so the same seed gives the same activity. Events are written with their own
future timestamps; the state changes they cause (unsubscribe, hard bounce, spam
complaint, resubscribe) go to the pending queue and happen when virtual time gets there.

* :class:`ActivityModel`: per recipient, opens (some repeated) spread over days with
  a decaying rate, clicks on the campaign's links by some openers, unsubscribes,
  spam complaints, soft and hard bounces (hard bounce -> Bounced + suppression; spam
  complaint -> Unsubscribed + suppression).
* :class:`LinkScanner`: for a share of recipients on a domain, the filter "opens" and
  clicks every link seconds after delivery, including the unsubscribe link (->
  Unsubscribed, on the suppression list when the list suppresses unsubscribes) and then
  the resubscribe link of the success page (-> Active again, off the suppression list),
  unless the list uses two-click unsubscribe (the click lands on a confirmation page
  and nothing changes). Delay, spread over the domain, gap between links, whether it
  loads the pixel and whether it resubscribes are knobs of the model.
* :func:`plan_link_unsubscribe`: a person opens a campaign and clicks its unsubscribe
  link by hand (the events a campaign report shows for it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from faker import Faker

if TYPE_CHECKING:
    from cm_sim.models_base import AccountBase

__all__ = [
    "SCANNER_CLIENT",
    "ActivityModel",
    "LinkScanner",
    "plan_activity",
    "plan_link_unsubscribe",
]

GEO_COUNTRIES = {
    "AU": "Australia", "US": "United States of America", "GB": "United Kingdom",
    "DE": "Germany", "FR": "France", "CA": "Canada", "NZ": "New Zealand", "IN": "India",
    "BR": "Brazil", "JP": "Japan",
}  # fmt: skip
SOFT_REASONS = (
    "Soft Bounce - General", "Soft Bounce - Mailbox Full", "Soft Bounce - Dns Failure",
    "Bounce - But No Email Address Returned ",
)  # fmt: skip
SCANNER_CLIENT = "Link scanner/Server/Bot"
"""The mail client recorded for a link scanner's events (the simulator's ground truth)."""
MAIL_CLIENTS = (("Apple Mail", "OS X", "Desktop"), ("Gmail", "Android", "Mobile"),
                ("Outlook", "Windows", "Desktop"), ("iOS Mail", "iOS", "Mobile"))  # fmt: skip


@dataclass(frozen=True)
class ActivityModel:
    """Rates and timing of generated activity (probabilities per recipient).

    Attributes:
        open_rate: Share of delivered recipients who open at least once.
        reopen_rate: Chance of each further open by an opener (geometric).
        click_rate: Share of openers who click at least one link.
        unsubscribe_rate: Share of openers who unsubscribe.
        spam_rate: Share of delivered recipients who complain.
        soft_bounce_rate: Share of recipients whose delivery soft-bounces.
        hard_bounce_rate: Share of recipients whose address hard-bounces.
        spread_hours: Mean delay of a first open after delivery (exponential).
    """

    open_rate: float = 0.4
    reopen_rate: float = 0.3
    click_rate: float = 0.3
    unsubscribe_rate: float = 0.02
    spam_rate: float = 0.002
    soft_bounce_rate: float = 0.01
    hard_bounce_rate: float = 0.005
    spread_hours: float = 18.0

    def __post_init__(self) -> None:
        for name in ("open_rate", "reopen_rate", "click_rate", "unsubscribe_rate",
                     "spam_rate", "soft_bounce_rate", "hard_bounce_rate"):  # fmt: skip
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value}")
        if self.spread_hours <= 0:
            raise ValueError("spread_hours must be positive")


@dataclass(frozen=True)
class LinkScanner:
    """A spam filter that clicks every link for a share of a domain's recipients.

    Real security gateways (Safe Links, Proofpoint, Mimecast, Barracuda) fetch every link of
    a message when it is delivered: seconds to a few minutes after the send, about a second
    per link, for every recipient behind the gateway at once. Some load the tracking
    pixel, some do not; some follow the resubscribe link on the unsubscribe success page
    and some stop there. The defaults are the simplest such filter (everything at once,
    open and resubscribe always).

    Attributes:
        domain: Recipient domain (``corp.example``); subdomains match too.
        share: Share of that domain's recipients whose mail is scanned (0-1).
        delay_seconds: Seconds after delivery of the first scan request.
        spread_seconds: The domain's scans start at random within this many seconds after
            the delay (a gateway works through its queue), 0 for all at once.
        click_gap_seconds: Seconds between one link and the next (at least 1).
        open_rate: Share of scans that also load the tracking pixel (an open).
        resubscribe_rate: Share of scans that click the resubscribe link of the
            unsubscribe success page (Active again, off the suppression list).
        resubscribe_after_seconds: Seconds from the unsubscribe to that click (2: at
            once; gateways that queue the success page come back minutes later).
    """

    domain: str
    share: float = 1.0
    delay_seconds: int = 5
    spread_seconds: int = 0
    click_gap_seconds: int = 1
    open_rate: float = 1.0
    resubscribe_rate: float = 1.0
    resubscribe_after_seconds: int = 2

    def __post_init__(self) -> None:
        for name in ("share", "open_rate", "resubscribe_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value}")
        if self.delay_seconds < 0 or self.spread_seconds < 0:
            raise ValueError("delay_seconds and spread_seconds must not be negative")
        if self.click_gap_seconds < 1:
            raise ValueError("click_gap_seconds must be at least 1")
        if self.resubscribe_after_seconds < 1:
            raise ValueError("resubscribe_after_seconds must be at least 1")

    def matches(self, email: str) -> bool:
        """Whether the address is on the scanned domain."""
        host = email.rsplit("@", 1)[-1].lower()
        dom = self.domain.lower().lstrip("@")
        return host == dom or host.endswith("." + dom)


@dataclass
class _Plan:
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    pending: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)


def _store_activity(account: AccountBase, rows: list[tuple[Any, ...]]) -> None:
    account.store.executemany(
        "INSERT INTO activity (source, source_id, kind, email, list_id, ts, ip, lat, lon, city, "
        "region, country_code, country_name, url, bounce_type, reason, mail_client) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def _faker(account: AccountBase) -> Faker:
    fake = getattr(account, "_faker", None)
    if fake is None:
        fake = Faker()
        fake.seed_instance(account.rng.getrandbits(32))
        account._faker = fake  # type: ignore[attr-defined]
    return fake


def _profile(fake: Faker, account: AccountBase) -> tuple[Any, ...]:
    code = account.rng.choice(sorted(GEO_COUNTRIES))
    place = fake.local_latlng(country_code=code) or ("0", "0", "", code, "")
    lat, lon, city, cc, tzname = place
    region = str(tzname).split("/")[-1].replace("_", " ")
    client = "/".join(account.rng.choice(MAIL_CLIENTS))
    return (
        fake.ipv4_public(),
        float(lat),
        float(lon),
        city,
        region,
        cc,
        GEO_COUNTRIES.get(cc, cc),
        client,
    )


def _scan(
    plan: _Plan,
    add: Any,
    scanner: LinkScanner,
    rng: Any,
    fake: Faker,
    email: str,
    list_id: str,
    sent_ts: int,
    links: list[str],
    one_click: bool,
    change: dict[str, Any],
) -> None:
    """One recipient's mail scanned: pixel, every link, unsubscribe, maybe resubscribe.

    Draws from ``rng`` only for the knobs that are not at their defaults, so a default
    scanner consumes the same random numbers as before they existed.
    """
    prof = (fake.ipv4_public(), 0.0, 0.0, "", "", "", "", SCANNER_CLIENT)
    t = sent_ts + scanner.delay_seconds
    if scanner.spread_seconds:
        t += rng.randint(0, scanner.spread_seconds)
    if scanner.open_rate >= 1.0 or rng.random() < scanner.open_rate:
        add("open", email, list_id, t, prof)
    gap = scanner.click_gap_seconds
    for i, url in enumerate(links):
        add("click", email, list_id, t + gap * (i + 1), prof, url=url)
    if not list_id or not one_click:
        return
    t_unsub = t + gap * (len(links) + 1)
    add("unsubscribe", email, list_id, t_unsub, prof)
    plan.pending.append((t_unsub, "unsubscribe", change | {"reason": "Unsubscribed"}))
    if scanner.resubscribe_rate >= 1.0 or rng.random() < scanner.resubscribe_rate:
        plan.pending.append((t_unsub + scanner.resubscribe_after_seconds, "resubscribe", change))


def plan_activity(
    account: AccountBase,
    source: str,
    source_id: str,
    recipients: list[tuple[str, str]],
    sent_ts: int,
    links: list[str],
    two_click_lists: set[str],
) -> dict[str, int]:
    """Generate and store the activity of one send, and schedule the state changes it causes.

    Args:
        account: The account (its rng, models and store are used).
        source: ``campaign`` or ``journey``.
        source_id: Campaign ID or journey email ID.
        recipients: ``(email, list_id)`` pairs that were sent to.
        sent_ts: Delivery time.
        links: The links in the email.
        two_click_lists: Lists whose unsubscribe link needs a confirmation click.

    Returns:
        Counts of generated events per kind.
    """
    model: ActivityModel | None = account.activity_model
    scanners: list[LinkScanner] = list(account.link_scanners)
    if model is None and not scanners:
        return {}
    rng = account.rng
    fake = _faker(account)
    plan = _Plan()
    counts: dict[str, int] = {}

    def add(
        kind: str, email: str, list_id: str, ts: int, prof: tuple[Any, ...], **extra: Any
    ) -> None:
        counts[kind] = counts.get(kind, 0) + 1
        plan.rows.append(
            (source, source_id, kind, email, list_id, ts, *prof[:7], extra.get("url", ""),
             extra.get("bounce_type", ""), extra.get("reason", ""), prof[7])
        )  # fmt: skip

    for email, list_id in recipients:
        norm = email.lower()
        change = {"list_id": list_id, "email_norm": norm, "source": source}
        scanner = next((s for s in scanners if s.matches(email)), None)
        if scanner is not None and rng.random() < scanner.share:
            _scan(plan, add, scanner, rng, fake, email, list_id, sent_ts, links,
                  list_id not in two_click_lists, change)  # fmt: skip
        if model is None:
            continue
        draw = rng.random()
        if draw < model.hard_bounce_rate:
            prof = ("", 0.0, 0.0, "", "", "", "", "")
            add(
                "bounce",
                email,
                list_id,
                sent_ts + 60,
                prof,
                bounce_type="Hard",
                reason="Hard Bounce",
            )
            if list_id:
                plan.pending.append((sent_ts + 60, "bounce", change))
            continue
        if draw < model.hard_bounce_rate + model.soft_bounce_rate:
            prof = ("", 0.0, 0.0, "", "", "", "", "")
            add("bounce", email, list_id, sent_ts + 60, prof, bounce_type="Soft",
                reason=rng.choice(SOFT_REASONS))  # fmt: skip
            continue
        if rng.random() < model.spam_rate:
            t = sent_ts + int(rng.expovariate(1 / (model.spread_hours * 3600)))
            add("spam", email, list_id, t, ("", 0.0, 0.0, "", "", "", "", ""))
            if list_id:
                plan.pending.append((t, "spam", change))
            continue
        if rng.random() >= model.open_rate:
            continue
        prof = _profile(fake, account)
        t = sent_ts + 1 + int(rng.expovariate(1 / (model.spread_hours * 3600)))
        add("open", email, list_id, t, prof)
        opens = 1
        while rng.random() < model.reopen_rate and opens < 10:
            t = t + 60 + int(rng.expovariate(1 / 7200))
            add("open", email, list_id, t, prof)
            opens += 1
        if links and rng.random() < model.click_rate:
            for url in rng.sample(links, k=rng.randint(1, min(3, len(links)))):
                t = t + 5 + int(rng.random() * 120)
                add("click", email, list_id, t, prof, url=url)
        if list_id and rng.random() < model.unsubscribe_rate:
            t = t + 30 + int(rng.random() * 300)
            add("unsubscribe", email, list_id, t, prof)
            plan.pending.append((t, "unsubscribe", change | {"reason": "Unsubscribed"}))

    _store_activity(account, plan.rows)
    account.schedule_many(plan.pending)
    return counts


def plan_link_unsubscribe(
    account: AccountBase, campaign_id: str, email: str, list_id: str, ts: int
) -> None:
    """A person opens a campaign at ``ts`` and clicks its unsubscribe link 30 s later.

    Both events go to the campaign's report (with the person's own IP and place) and the
    unsubscribe follows the list's rules when its moment comes. With two-click
    unsubscribe the person confirms on the page, so it happens all the same.
    """
    prof = _profile(_faker(account), account)
    rows = [
        ("campaign", campaign_id, kind, email, list_id, at, *prof[:7], "", "", "", prof[7])
        for kind, at in (("open", ts), ("unsubscribe", ts + 30))
    ]
    _store_activity(account, rows)
    change = {"list_id": list_id, "email_norm": email.strip().lower(), "source": "campaign"}
    account.schedule_many([(ts + 30, "unsubscribe", change | {"reason": "Unsubscribed"})])
