"""``cmsf doctor``: a preflight a Salesforce admin can run at any time, check by check.

Each :class:`Check` passes, warns or fails, and says how to fix what it found. The checks
follow the product's FAQ and what the engine needs:

- **login**: cmsf can log in to the org (and reads who it is);
- **api**: the API answers and the org's daily allocation has headroom below the
  ``org_api_ceiling`` setting;
- **permission queries**: the FAQ's ten queries (AsyncApexJob, ApexClass, ApexTrigger,
  User, CronTrigger, Organization, CustomNotificationType, PermissionSetAssignment,
  PermissionSet, RecordType) run as the sync user;
- **data model**: every object and field of this version of the data model exists;
- **access**: read and edit access (describe) to every object and field the engine
  touches, Contact, Lead, Campaign and CampaignMember included;
- **sync user**: active, with ``CMSF_Full_Access`` assigned;
- **sandbox safety**: ``IsSandbox`` and the org Id against the connected one, with the
  account's test-account flag;
- **apex queue**: stale ``ApexToken`` jobs (the FAQ's query), jobs Holding for more than
  an hour and a full flex queue, with the FAQ's advice (:mod:`cmsf_core.org_health`);
- **data storage**: the org's data storage and the sync's share (about 2 KB a record);
- **bulk API jobs**: jobs of the sync still waiting in the journal to be collected;
- **Campaign Monitor**: reachable with these credentials, the key's access level
  (account or client), test account or not;
- **journal**: bound to this org and this connection (or not bound yet).

A failing check never stops the others; the report's exit code is non-zero on any fail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from cmsf_core.data_model import expected_fields
from cmsf_core.errors import AuthenticationError, CmsfError, NotFoundError, SafetyError
from cmsf_core.operations import connection_generation
from cmsf_core.org_health import apex_queue, storage
from cmsf_core.permission_sets import LEVELS
from cmsf_core.safety import check_account, unsafe_reason
from cmsf_core.settings import Settings
from cmsf_core.settings_store import SettingsStore

if TYPE_CHECKING:
    from cmsf_core.engine import Engine
    from cmsf_core.salesforce import SalesforceGateway

__all__ = ["PERMISSION_QUERIES", "STANDARD_ACCESS", "Check", "Report", "run_doctor"]

PASS, WARN, FAIL = "pass", "warn", "fail"

PERMISSION_QUERIES: tuple[str, ...] = (
    "SELECT CreatedDate, Id FROM AsyncApexJob",
    "SELECT Id FROM ApexClass",
    "SELECT Name, TableEnumOrId FROM ApexTrigger",
    "SELECT Id FROM User",
    "SELECT Id FROM CronTrigger",
    "SELECT OrganizationType, IsSandbox FROM Organization",
    "SELECT Id, DeveloperName FROM CustomNotificationType",
    "SELECT Id FROM PermissionSetAssignment",
    "SELECT Id FROM PermissionSet",
    "SELECT Id FROM RecordType",
)
"""The FAQ's queries the sync user must be able to run."""

STANDARD_ACCESS: dict[str, tuple[str, ...]] = {
    "Contact": ("Email", "FirstName", "LastName", "HasOptedOutOfEmail", "OwnerId"),
    "Lead": ("Email", "FirstName", "LastName", "Company", "HasOptedOutOfEmail", "OwnerId"),
    "Campaign": ("Name", "IsActive", "Status"),
    "CampaignMember": ("CampaignId", "ContactId", "LeadId", "Status"),
}
"""Standard objects and fields the engine reads and writes."""

LICENSED_OBJECTS = ("Lead", "Campaign", "CampaignMember")
"""Standard objects a limited (platform) license typically lacks; the sync can skip them."""


@dataclass
class Check:
    """One finding: ``status`` is ``pass``, ``warn`` or ``fail``; ``fix`` says what to do."""

    name: str
    status: str
    detail: str
    fix: str = ""


@dataclass
class Report:
    """Every check, in order."""

    checks: list[Check]

    @property
    def failed(self) -> bool:
        """True if any check failed."""
        return any(c.status == FAIL for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        counts = {s: sum(1 for c in self.checks if c.status == s) for s in (PASS, WARN, FAIL)}
        return {"ok": not self.failed, "counts": counts, "checks": [asdict(c) for c in self.checks]}


class _Doctor:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.gateway: SalesforceGateway = engine.gateway()
        self.checks: list[Check] = []
        self.settings = Settings()
        self.org: dict[str, Any] = {}
        self.user_id = ""

    def add(self, name: str, status: str, detail: str, fix: str = "") -> None:
        self.checks.append(Check(name, status, detail, fix))

    def guarded(self, name: str, check: Callable[[], None]) -> None:
        try:
            check()
        except CmsfError as error:
            self.add(
                name,
                FAIL,
                f"could not check: {error}",
                "fix the error above and run 'cmsf doctor' again",
            )

    # ------------------------------------------------------------------ Salesforce

    def login(self) -> bool:
        try:
            self.org = self.gateway.organization()
            self.user_id = self.gateway.current_user_id()
        except AuthenticationError as error:
            self.add("login", FAIL, f"Salesforce refused the login: {error}",
                     "check the username, password and security token (or the session), and "
                     "CMSF_SF_LOGIN_URL for a My Domain or sandbox")  # fmt: skip
            return False
        except CmsfError as error:
            self.add("login", FAIL, f"cannot reach Salesforce: {error}",
                     "check CMSF_SF_LOGIN_URL / CMSF_SF_INSTANCE_URL and CMSF_SF_CA_FILE")  # fmt: skip
            return False
        kind = (
            "sandbox"
            if self.org.get("IsSandbox")
            else str(self.org.get("OrganizationType") or "org")
        )
        self.add(
            "login",
            PASS,
            f"logged in to {self.org.get('Name')} ({str(self.org['Id'])[:15]}, {kind}) as {self.user_id}",
        )
        try:
            self.settings = SettingsStore(self.gateway, self.engine.clock).load()
        except CmsfError:
            self.settings = Settings()
        return True

    def api(self) -> None:
        daily = self.gateway.limits().get("DailyApiRequests") or {}
        maximum, remaining = int(daily.get("Max") or 0), int(daily.get("Remaining") or 0)
        if not maximum:
            self.add("API budget", WARN, "the org does not report DailyApiRequests", "")
            return
        share = (maximum - remaining) / maximum
        ceiling = self.settings.org_api_ceiling
        detail = f"{maximum - remaining:,} of {maximum:,} daily API calls used ({share:.0%}); syncs stop at {ceiling:.0%}"
        if share >= ceiling:
            self.add("API budget", FAIL, detail, "the org's API calls are nearly spent: find the app using them "
                     "(Setup > System Overview) or wait for the 24-hour window; raise org_api_ceiling only with care")  # fmt: skip
        elif share >= ceiling * 0.8:
            self.add("API budget", WARN, detail, "little headroom left today; syncs may stop early")
        else:
            self.add("API budget", PASS, detail)

    def permission_queries(self) -> None:
        refused = []
        for soql in PERMISSION_QUERIES:
            try:
                list(self.gateway.query(soql + " LIMIT 1"))
            except CmsfError as error:
                refused.append(f"{soql.split(' FROM ')[1]} ({error.error_code or error})")
        if refused:
            self.add("permission queries", FAIL, f"the sync user cannot query: {', '.join(refused)}",
                     "give the sync user a System Administrator profile, or \"View Setup and "
                     "Configuration\" and read access to these objects")  # fmt: skip
        else:
            self.add(
                "permission queries",
                PASS,
                f"all {len(PERMISSION_QUERIES)} queries of the FAQ run as the sync user",
            )

    def data_model(self) -> bool:
        from cmsf_core.setup import missing_model

        gap = missing_model(self.gateway)
        # A standard object the sync user cannot see at all (a platform license) is an
        # access problem, not an undeployed model: the access check names it.
        objects = [o for o in gap.objects if o not in LICENSED_OBJECTS]
        fields = gap.fields
        permission_sets = gap.permission_sets
        if objects:
            self.add("data model", FAIL, f"objects not deployed: {', '.join(objects)}",
                     "run 'cmsf setup' (deploys the data model and assigns CMSF_Full_Access)")  # fmt: skip
            return False
        total = sum(len(v) for v in expected_fields().values())
        if fields or permission_sets or gap.changed:
            missing = fields + [f"permission set {p}" for p in permission_sets]
            missing += [f"{c} changed" for c in gap.changed]
            self.add("data model", FAIL, f"an older or partial data model: missing {', '.join(missing[:8])}"
                     + (f" and {len(missing) - 8} more" if len(missing) > 8 else ""),
                     "run 'cmsf setup' to deploy this version (if the fields exist, they are "
                     "hidden from the sync user: see the access check)")  # fmt: skip
            return True
        self.add("data model", PASS, f"{len(expected_fields())} objects and {total} fields of this version, "
                 f"{len(LEVELS)} permission sets")  # fmt: skip
        return True

    def access(self) -> None:
        wanted: dict[str, tuple[str, ...]] = dict(STANDARD_ACCESS)
        for folder, custom in expected_fields().items():
            target = "Task" if folder == "Activity" else folder
            wanted[target] = tuple(sorted({*wanted.get(target, ()), *custom}))
        problems, fixes = [], set()
        for obj, names in wanted.items():
            try:
                describe = self.gateway.describe(obj)
            except NotFoundError:
                problems.append(f"{obj}: not visible")
                fixes.add(
                    f"grant Read on {obj}"
                    + (
                        " (a Salesforce Platform license has no Leads or Campaigns: give the "
                        "sync user a full Salesforce license; until then the sync skips them)"
                        if obj in LICENSED_OBJECTS
                        else ""
                    )
                )
                continue
            for action, key in (
                ("read", "queryable"),
                ("create", "createable"),
                ("edit", "updateable"),
            ):
                if not describe.get(key, True):
                    problems.append(f"{obj}: no {action} permission")
                    fixes.add(f"grant {action.capitalize()} on {obj} (object permissions)")
            fields = {f["name"]: f for f in describe.get("fields", [])}
            for name in names:
                found = fields.get(name)
                if found is None:
                    problems.append(f"{obj}.{name} hidden")
                    fixes.add(f"make {obj}.{name} visible to the sync user (field-level security)")
                elif not (
                    found.get("updateable")
                    or found.get("createable")
                    or found.get("calculated")
                    or found.get("autoNumber")
                ):
                    problems.append(f"{obj}.{name} read-only")
                    fixes.add(
                        f"make {obj}.{name} editable for the sync user (field-level security)"
                    )
        if problems:
            self.add("object and field access", FAIL, "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else ""),
                     "; ".join(sorted(fixes)[:5]) + " - CMSF_Full_Access grants the custom ones ('cmsf setup' assigns it)")  # fmt: skip
        else:
            self.add(
                "object and field access",
                PASS,
                f"read and edit on {len(wanted)} objects and their fields",
            )

    def sync_user(self) -> None:
        user_id = self.settings.sync_user_id or self.user_id
        rows = list(
            self.gateway.query(f"SELECT Id, Username, IsActive FROM User WHERE Id = '{user_id}'")
        )
        if not rows:
            self.add(
                "sync user",
                FAIL,
                f"no user {user_id}",
                "change the sync user: 'cmsf sync-user USERNAME'",
            )
            return
        user = rows[0]
        if not user.get("IsActive"):
            self.add(
                "sync user",
                FAIL,
                f"{user['Username']} is inactive",
                "change the sync user: 'cmsf sync-user USERNAME'",
            )
            return
        assigned = self.gateway.count(
            "SELECT COUNT() FROM PermissionSetAssignment WHERE AssigneeId = "
            f"'{user['Id']}' AND PermissionSet.Name = '{LEVELS[0].name}'"
        )
        if not assigned:
            self.add("sync user", FAIL, f"{user['Username']} does not have {LEVELS[0].name}",
                     f"run 'cmsf setup' (assigns it), or Setup > Permission Sets > {LEVELS[0].label} > Manage Assignments")  # fmt: skip
            return
        runs_as = (
            ""
            if user["Id"][:15] == self.user_id[:15]
            else f" (cmsf logs in as {self.user_id}; runs switch to it through JWT bearer)"
        )
        self.add(
            "sync user", PASS, f"{user['Username']}: active, {LEVELS[0].name} assigned{runs_as}"
        )

    def apex_queue(self) -> None:
        found = apex_queue(self.gateway, self.engine.clock.now())
        fixes = {
            "pass": "",
            "warn": found.advice or "watch Setup > Apex Flex Queue",
            "fail": found.advice
            or "Setup > Apex Flex Queue: abort or reorder jobs; new batch jobs are refused while it is full",
        }
        self.add("apex queue", found.status, found.summary, fixes[found.status])

    def storage(self) -> None:
        limits = self.gateway.limits()
        found = storage(limits, self.engine.journal, self.settings.limit("storage_warn_percent"))
        if not found.max_mb:
            self.add("data storage", WARN, "the org does not report DataStorageMB", "")
            return
        detail = (
            f"{found.used_mb:,} of {found.max_mb:,} MB used ({found.share:.0%}); the sync's "
            f"records about {found.synced_mb:,.1f} MB ({found.synced_records:,} of about 2 KB each)"
        )
        fix = (
            "free space: lower tracking_retention_days (now "
            f"{self.settings.tracking_retention_days}) or keep fewer tracking_activity_types; "
            "the next sync cleans up before it writes"
        )
        if found.used_mb >= found.max_mb:
            self.add("data storage", FAIL, detail + "; full: Salesforce refuses new records", fix)
        elif found.tight:
            self.add("data storage", WARN, detail, fix)
        else:
            self.add("data storage", PASS, detail)

    def bulk_jobs(self) -> None:
        from cmsf_core.bulk_ledger import BulkLedger
        from cmsf_core.shadow import Shadow

        ledger = BulkLedger(self.engine.journal, Shadow(self.engine.journal))
        waiting = ledger.open_jobs()
        if waiting:
            ids = ", ".join(f"{j.job_id} ({j.operation} {j.sobject})" for j in waiting[:5])
            self.add("bulk API jobs", WARN, f"{len(waiting)} Bulk API job(s) of the sync not collected yet: {ids}",
                     "nothing to do: the next sync collects their results and writes nothing twice; "
                     "if the org's bulk queue stays busy, raise bulk_wait_minutes")  # fmt: skip
        else:
            self.add("bulk API jobs", PASS, "no Bulk API job of the sync is waiting")

    # ------------------------------------------------------------------ Campaign Monitor and safety

    def campaign_monitor(self) -> None:
        cm = self.engine.campaign_monitor()
        try:
            try:
                clients = cm.clients()
            except AuthenticationError as error:
                self.add("Campaign Monitor", FAIL, f"the credentials are refused: {error}",
                         "check CMSF_CM_API_KEY (Account settings > API keys) or the OAuth token")  # fmt: skip
                return
            try:
                cm.billing_details()
                level = "account-level key"
            except AuthenticationError:
                level = "client-level key"
            said = cm.says_test_account()
            kind = (
                "a test account"
                if said
                else (
                    "not a test account"
                    if said is False
                    else "test account: unknown (the API does not say)"
                )
            )
            status = PASS if level == "account-level key" else WARN
            self.add("Campaign Monitor", status, f"reachable; {len(clients)} client(s); {level}; {kind}",
                     "" if status == PASS else "connect with an account-level API key of a full-access user to sync every client")  # fmt: skip
            self._safety(cm)
        finally:
            cm.close()

    def _safety(self, cm: Any) -> None:
        if not self.settings.connected:
            self.add("sandbox safety", PASS if not self.org.get("IsSandbox") else WARN,
                     "not connected yet" + (" (this org is a sandbox: connect it to a test account)" if self.org.get("IsSandbox") else ""))  # fmt: skip
            return
        try:
            test_account = check_account(cm, self.settings)
        except SafetyError as error:
            self.add(
                "sandbox safety",
                FAIL,
                str(error),
                "run 'cmsf connect' with the credentials of the connected account, or reconnect",
            )
            return
        reason = unsafe_reason(self.org, self.settings, test_account=test_account)
        if reason:
            self.add("sandbox safety", FAIL, reason,
                     "connect this sandbox to a Campaign Monitor test account ('cmsf reset-settings --yes', "
                     "then 'cmsf connect' with the test account's key); see CMSF-SANDBOX")  # fmt: skip
        else:
            where = "sandbox" if self.org.get("IsSandbox") else "production"
            self.add("sandbox safety", PASS, f"{where} org {str(self.org['Id'])[:15]} is the connected one; "
                     f"{'test' if test_account else 'live'} account")  # fmt: skip

    def journal(self) -> None:
        bound = self.engine.journal.binding()
        if bound is None:
            self.add("journal", PASS, "not bound yet (the first sync binds it)")
            return
        org_id, generation = bound
        if org_id[:15] != str(self.org.get("Id", ""))[:15]:
            self.add("journal", WARN, f"bound to org {org_id[:15]}, not this one",
                     "the next sync starts clean state for this org (a first sync); give --journal another file to keep both")  # fmt: skip
        elif self.settings.connection_key and generation != connection_generation(self.settings):
            self.add("journal", WARN, "bound to an earlier connection of this org",
                     "the next sync starts clean state (a first sync) for the new connection")  # fmt: skip
        else:
            self.add("journal", PASS, "bound to this org and this connection")


def run_doctor(engine: Engine) -> Report:
    """Run every check against the engine's org, account and journal."""
    doctor = _Doctor(engine)
    if doctor.login():
        doctor.guarded("API budget", doctor.api)
        doctor.guarded("permission queries", doctor.permission_queries)
        deployed = False
        try:
            deployed = doctor.data_model()
        except CmsfError as error:
            doctor.add("data model", FAIL, f"could not check: {error}", "run 'cmsf setup'")
        if deployed:
            doctor.guarded("object and field access", doctor.access)
            doctor.guarded("sync user", doctor.sync_user)
        doctor.guarded("apex queue", doctor.apex_queue)
        doctor.guarded("data storage", doctor.storage)
        doctor.guarded("journal", doctor.journal)
        doctor.guarded("bulk API jobs", doctor.bulk_jobs)
    doctor.guarded("Campaign Monitor", doctor.campaign_monitor)
    return Report(doctor.checks)
