"""The benchmark's pure helpers (statistics, workbook mix, table) keep working, untimed."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

from cssw_docs.config import Settings
from cssw_docs.rubric import Rubric
from cssw_docs.validate import validate

BENCH = Path(__file__).resolve().parents[1] / "bench" / "run.py"


@pytest.fixture(scope="module")
def bench():
    """The bench/run.py script, imported as a module."""
    spec = importlib.util.spec_from_file_location("cssw_bench_run", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("values", "median", "p95"),
    [
        ([3.0], 3.0, 3.0),
        ([1.0, 2.0], 1.5, 2.0),
        ([5.0, 1.0, 3.0], 3.0, 5.0),
        ([float(i) for i in range(1, 101)], 50.5, 95.0),
        ([float(i) for i in range(1, 21)], 10.5, 19.0),
    ],
)
def test_median_and_p95(bench, values: list[float], median: float, p95: float) -> None:
    """Median is the middle value; p95 is the nearest-rank 95th percentile."""
    assert bench.median(values) == median
    assert bench.p95(values) == p95


def test_statistics_of_nothing_are_nan(bench) -> None:
    """No samples give NaN rather than an exception."""
    assert math.isnan(bench.median([]))
    assert math.isnan(bench.p95([]))


@pytest.mark.slow
def test_mix_is_valid_unique_and_varied(bench, the_rubric: Rubric) -> None:
    """Every audit in the mix validates, has its own reference, and types, stages and plans vary."""
    settings = Settings()
    items = bench.make_mix(40, the_rubric, settings, seed=3)
    refs = [item.ref for item in items]
    assert len(set(refs)) == 40
    for item in items:
        assert validate(item.submission, the_rubric, settings.validation).ok, item.ref
    mix = bench.describe_mix(items)
    assert len(mix["types"]) >= 3
    assert set(mix["stages"]) == {"Draft", "Final"}
    assert len(mix["overall"]) >= 3
    assert mix["actions_min"] >= bench.MIN_ACTIONS
    assert mix["actions_max"] <= bench.MAX_ACTIONS
    assert mix["actions_max"] - mix["actions_min"] >= 10


def test_mix_is_reproducible(bench, the_rubric: Rubric) -> None:
    """The same seed gives the same mix, so two runs measure the same workbooks."""
    first = bench.make_mix(8, the_rubric, Settings(), seed=11)
    again = bench.make_mix(8, the_rubric, Settings(), seed=11)
    assert [i.submission for i in first] == [i.submission for i in again]


def test_pack_times_and_steady_rate_from_a_service_log(bench) -> None:
    """Only "pack ... made" lines count; the rate is packs between the first and the last."""
    log = "\n".join(
        [
            "2026-11-26 03:40:09,436 INFO intake service started (once): 1 worker(s)",
            "2026-11-26 03:40:11,000 INFO job a BENCH-00001: pack Final v1 made in outbox/x",
            "2026-11-26 03:40:11,500 INFO job b BENCH-00002: pack Draft v1 made in outbox/y",
            "2026-11-26 03:40:12,000 INFO job c BENCH-00003: pack Final v1 made in outbox/z",
            "2026-11-26 03:40:12,100 INFO email: 3 sent",
        ]
    )
    times = bench.pack_times(log)
    assert len(times) == 3
    assert bench.steady_rate(times) == pytest.approx(2.0)
    assert math.isnan(bench.steady_rate(times[:1]))


def test_table_names_every_part_and_marks_missed_targets(bench) -> None:
    """The markdown table has a row per part that ran and says which targets were missed."""
    results = {
        "started": "2026-11-26T03:00:00+00:00",
        "quick": True,
        "machine": {
            "cpu": "Test CPU",
            "cores": 2,
            "memory": "1 GiB",
            "python": "3.11",
            "libreoffice": "LibreOffice 7",
            "docxtpl": "0",
            "openpyxl": "0",
        },
        "pack": {
            "workbooks": 4,
            "documents": 12,
            "floor_median_s": 0.1,
            "floor_p95_s": 0.12,
            "compiled_median_s": 0.08,
            "pack_median_s": 0.15,
            "pack_p95_s": 0.2,
            "ratio_median": 1.5,
            "ratio_total": 1.5,
            "ratio_compiled_median": 1.9,
        },
        "latency": {
            "drops": 20,
            "median_s": 1.3,
            "p95_s": 1.4,
            "settle_s": 1.0,
            "gap_s": 1.0,
            "spaced_drops": 20,
            "spaced_median_s": 1.2,
            "spaced_p95_s": 1.3,
        },
    }
    text = bench.markdown(results)
    assert "Test CPU, 2 cores" in text
    assert "QUICK RUN" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "Measure" not in line]
    assert [r.split("|")[1].strip()[0] for r in rows] == ["1", "2", "4"]
    assert rows[1].rstrip().endswith("| **no** |")
    assert rows[2].rstrip().endswith("| yes |")


def test_options_quick_shrinks_sizes_and_rejects_unknown_parts(bench) -> None:
    """--quick gives a smoke-run size; --only refuses a part that does not exist."""
    quick = bench.options(["--quick"])
    assert quick.n < 20 and quick.large < 50 and quick.parts == list(bench.PARTS)
    full = bench.options(["--only", "pack,batch"])
    assert (full.n, full.large, full.pdf_n) == (100, 1000, 20)
    assert full.parts == ["pack", "batch"]
    with pytest.raises(SystemExit):
        bench.options(["--only", "nonsense"])
