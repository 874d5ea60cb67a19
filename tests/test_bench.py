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
            "median_s": 1.2,
            "p95_s": 1.4,
            "settle_s": 1.0,
            "gap_s": 1.0,
            "spaced_drops": 20,
            "spaced_median_s": 1.1,
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


def test_speed_up_rounds_are_judged_only_when_every_round_agrees(bench) -> None:
    """Min, median, max of the rounds; a target inside the spread is "too wide to judge"."""
    figures = bench.spread([1.9, 1.7, 2.0])
    assert (figures["min"], figures["median"], figures["max"]) == (1.7, 1.9, 2.0)
    assert figures["spread"] == pytest.approx(0.3 / 1.9)
    assert bench.judge(figures, 1.85) == "spread too wide to judge"
    assert bench.judge(figures, 1.6) == "yes"
    assert bench.judge(figures, 2.1) == "no"


def test_batch_summary_compares_each_round_with_its_own_one_worker_run(bench) -> None:
    """Each round's speed-up is against the 1-worker run of the same round."""
    rounds = [
        {1: {"packs_per_s": 5.0}, 2: {"packs_per_s": 9.5}, 4: {"packs_per_s": 9.0}},
        {1: {"packs_per_s": 4.0}, 2: {"packs_per_s": 7.6}, 4: {"packs_per_s": 8.0}},
    ]
    summary = bench.batch_summary(rounds)
    assert summary["speedup_values"][2] == pytest.approx([1.9, 1.9])
    assert summary["speedups"][4]["min"] == pytest.approx(1.8)
    assert summary["verdict"] == "yes"


def test_the_large_batch_is_judged_by_its_rounds_as_the_small_one_is(bench) -> None:
    """1,000 workbooks in rounds: the row gives the median and spread, not a single figure."""
    rounds = [
        {1: {"packs_per_s": 12.0, "workbooks": 1000}, 2: {"packs_per_s": 22.8}},
        {1: {"packs_per_s": 12.4, "workbooks": 1000}, 2: {"packs_per_s": 21.1}},
        {1: {"packs_per_s": 12.2, "workbooks": 1000}, 2: {"packs_per_s": 22.9}},
    ]
    label, result, target, verdict = bench._rounds_row(bench.batch_summary(rounds), "3b")
    assert label == "3b Batch: watch --once, 1000 workbooks, 3 interleaved rounds"
    assert "2 workers 1.88x (min 1.70, max 1.90" in result
    assert target == "2 workers >= 1.85x in every round"
    assert verdict == "spread too wide to judge"
    assert bench.options(["--quick"]).large_rounds == 1
    assert bench.options([]).large_rounds == 3


def test_service_phases_are_read_from_the_log_and_projected(bench) -> None:
    """The service's "service process" line gives its CPU by phase; Amdahl caps the speed-up."""
    log = (
        "2026-11-30 04:13:58,477 INFO service process: discovery 1.327 s (CPU 0.415 s), "
        "claim 0.045 s (CPU 0.014 s), email writing 13.178 s (CPU 1.137 s); in all CPU "
        "2.062 s over 162.339 s\n2026-11-30 04:13:58,500 INFO intake service stopped\n"
    )
    parsed = bench.service_phases(log)
    assert parsed["cpu_s"] == 2.062 and parsed["wall_s"] == 162.339
    assert parsed["phases"]["email writing"] == {"wall_s": 13.178, "cpu_s": 1.137}
    assert bench.service_phases("nothing here") is None
    assert bench.amdahl(0.0, 8) == 8.0
    assert bench.amdahl(0.05, 8) == pytest.approx(1 / (0.05 + 0.95 / 8))
    run = {
        "workbooks": 10,
        "workers": 2,
        "seconds": 20.0,
        "parent": parsed,
        "parent_cpu_s": 2.0,
        "batch_cpu_s": 40.0,
        "parent_share": 0.05,
    }
    summary = bench.serial_summary(run)
    assert summary["amdahl_ceiling"] == pytest.approx(20.0)
    assert summary["phases"]["claim"]["cpu_share"] == pytest.approx(0.014 / 40)
