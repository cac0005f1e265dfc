from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from cmsf_core.errors import ConfigError
from cmsf_core.settings import (
    ACTIVITY_TYPES,
    DEFAULT_STATUS_MAP,
    Settings,
    StatusMapping,
    from_record,
    to_record,
)


def test_defaults_follow_the_settings_guide() -> None:
    settings = Settings()
    assert settings.frequency == "Hourly"
    assert settings.interval == timedelta(hours=1)
    assert settings.tracking_retention_days == 180
    assert settings.tracking_activity_types == ACTIVITY_TYPES
    assert settings.queue_retention_days == 2
    assert settings.selects_client("any-client")


def test_never_turns_the_sync_off() -> None:
    assert Settings().changed(frequency="Never").interval is None


def test_text_values_are_normalised() -> None:
    settings = Settings().changed(
        opt_out_sync="yes",
        tracking_retention_days="90",
        tracking_activity_types="Click, Open",
        campaign_start_date="2026-02-01",
        campaign_tags="news;promo",
        run_api_share="10%",
        sms_country="gb",
        client_selection="c1,c2",
    )
    assert settings.opt_out_sync is True
    assert settings.tracking_retention_days == 90
    assert settings.tracking_activity_types == ("Open", "Click")
    assert settings.campaign_start_date == date(2026, 2, 1)
    assert settings.campaign_tags == ("news", "promo")
    assert settings.run_api_share == pytest.approx(0.10)
    assert settings.sms_country == "GB"
    assert settings.selects_client("c2") and not settings.selects_client("c3")


def test_retention_zero_disables_tracking_history() -> None:
    settings = Settings().changed(tracking_retention_days=0)
    assert not settings.keeps_activity("Open")


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"frequency": "Weekly"}, "frequency must be one of"),
        ({"tracking_retention_days": "-1"}, "whole number from 0"),
        ({"tracking_retention_days": "lots"}, "whole number"),
        ({"tracking_activity_types": "Open,Forward"}, "unknown Forward"),
        ({"campaign_start_date": "31/01/2026"}, "date like"),
        ({"notification_email": "not-an-address"}, "not a valid email"),
        ({"run_api_share": "150%"}, "at most 1"),
        ({"governor_limits": {"subscribers": 0}}, "from 1 to"),
        ({"governor_limits": {"nope": 5}}, "unknown limit 'nope'"),
        ({"governor_limits": "{broken"}, "not valid JSON"),
        ({"status_map": {"Forward": "x"}}, "unknown activity"),
        ({"status_map": {"Open": "x" * 41}}, "1 to 40 characters"),
        ({"opt_out_sync": "maybe"}, "true or false"),
        ({"colour": "blue"}, "unknown setting 'colour'"),
        ({"scanner_threshold": "0"}, "whole number from 1 to 100"),
        ({"scanner_threshold": "101"}, "whole number from 1 to 100"),
        ({"scanner_threshold": "9" * 400}, "whole number from 1 to 100"),
        ({"scanner_threshold": "60; DROP"}, "whole number from 1 to 100"),
        ({"scanner_protection": "sometimes"}, "true or false"),
    ],
    ids=[
        "frequency",
        "negative-retention",
        "text-retention",
        "activity-type",
        "date-format",
        "email",
        "share",
        "limit-range",
        "limit-name",
        "limit-json",
        "status-activity",
        "status-length",
        "boolean",
        "unknown",
        "scanner-threshold-zero",
        "scanner-threshold-over-100",
        "scanner-threshold-oversized",
        "scanner-threshold-hostile",
        "scanner-protection",
    ],
)
def test_invalid_settings_are_refused_with_a_clear_message(
    changes: dict[str, object], fragment: str
) -> None:
    with pytest.raises(ConfigError, match=fragment):
        Settings().changed(**changes)


def test_limits_fall_back_to_defaults_and_accept_overrides() -> None:
    settings = Settings().changed(governor_limits={"email_opt_out": 50})
    assert settings.limit("email_opt_out") == 50
    assert settings.limit("subscribers") == 100_000  # the platform sizes pooled subscriber writes
    with pytest.raises(ConfigError):
        settings.limit("unknown")


def test_status_map_overrides_keep_other_defaults() -> None:
    settings = Settings().changed(status_map={"Open": {"status": "Registered", "responded": True}})
    assert settings.status_map["Open"] == StatusMapping("Registered", True)
    assert settings.status_map["Click"] == DEFAULT_STATUS_MAP["Click"]


def test_record_round_trip_keeps_every_setting() -> None:
    settings = Settings().changed(
        frequency="Daily",
        opt_out_sync=True,
        tracking_activity_types=["Open"],
        campaign_tags=["a", "b"],
        status_map={"Click": "Engaged"},
        governor_limits={"subscribers": 500},
        run_api_share=0.3,
        notification_email="ops@example.com",
        campaign_start_date="2026-01-01",
        scanner_protection="on",
        scanner_threshold="75",
    )
    assert from_record(to_record(settings)) == settings


def test_scanner_settings_default_to_detection_without_protection() -> None:
    settings = Settings()
    assert settings.scanner_protection is False
    assert settings.scanner_threshold == 60
    record = to_record(settings.changed(scanner_protection=True, scanner_threshold=80))
    assert record["Scanner_Protection__c"] is True
    assert record["Scanner_Threshold__c"] == 80
    assert from_record({"Scanner_Threshold__c": 70.0}).scanner_threshold == 70


def test_empty_record_means_defaults() -> None:
    assert from_record({}) == Settings()


def test_hand_edited_bad_record_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="frequency"):
        from_record({"Sync_Frequency__c": "Sometimes"})


def test_the_industry_comparison_is_refused_with_the_reason(tmp_path: Path) -> None:
    import subprocess
    import sys

    cmsf = str(Path(sys.executable).with_name("cmsf"))
    done = subprocess.run(
        [cmsf, "--home", str(tmp_path / ".cmsf"), "settings", "set", "industry=Retail"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    assert "industry" in done.stderr and "not supported" in done.stderr
