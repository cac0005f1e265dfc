from __future__ import annotations

import pytest

from sf_sim import bench


def test_bench_runs_and_reports_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--rows", "500", "--bulk-rows", "300", "--repeat", "3"]) == 0
    out = capsys.readouterr().out
    for label in (
        "store insert",
        "selective",
        "full scan ORDER BY",
        "parent relationship",
        "bulk2 insert",
        "peak memory",
    ):
        assert label in out
    assert out.count("rows/s") == 6


def test_bench_refuses_nonsense_counts() -> None:
    with pytest.raises(SystemExit) as exc:
        bench.main(["--rows", "0"])
    assert exc.value.code == 2
