"""The engine benchmark runs end to end and keeps its indexes (figures are not asserted)."""

from __future__ import annotations

import pytest

from sf_sim.soql import bench


def test_bench_reports_every_shape_and_uses_the_indexes(capsys: pytest.CaptureFixture[str]) -> None:
    bench.main(["--rows", "400"])
    out = capsys.readouterr().out
    assert "selective plan: SEARCH t0 USING INDEX idx_Contact_Email" in out
    assert "date literal plan: SEARCH t0 USING INDEX idx_Contact_CreatedDate" in out
    assert out.count("rows/s") == 5
