"""Performance benchmark: the pipeline against the bare cost of rendering (`make bench`).

Measures, in one run on one machine, and prints a table (also written as JSON and markdown to
``bench/results/``):

1. Floor   docxtpl render + save of the pack's templates from prebuilt contexts (templates
           compiled once, as the pipeline renders them), and where that time goes.
2. Pack    ``pipeline.check`` + ``pipeline.render`` per workbook, PDF off; ratio pack/floor
           in CPU time (the machine may be shared; CPU time is what the code costs).
3. Batch   ``cssw-docs watch --once`` over N workbooks with 1, 2 and 4 workers, in interleaved
           rounds (min, median and max of the speed-up); over the large N with 1 and 2
           workers, in rounds too; the service process's own share of the large batch, phase
           by phase, and what Amdahl's law makes of it for more cores.
4. Latency atomic rename into a running watcher's intake -> pack folder complete.
5. PDF     N storyboards: one LibreOffice call for all, against one call per document.
6. Memory  peak RSS of the watcher's process tree over a batch of N and of a larger N.

Usage: ``python bench/run.py [--n 100] [--large 1000] [--quick] [--only pack,batch]``.
Timings are noisy: the figures are medians and ratios measured side by side, never asserted.
More parts (such as a booklet bench in ``bench/booklet.py``) add a name to ``PARTS``, a
``measure`` call in ``main`` and a row in ``verdicts``.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import cProfile
import dataclasses
import datetime as dt
import io
import json
import math
import os
import platform
import pstats
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from cssw_docs import examples, pipeline, render
from cssw_docs import rubric as rubric_mod
from cssw_docs.config import Settings
from cssw_docs.models import Action, Consent, DocKind, Submission
from cssw_docs.render import pdf
from cssw_docs.rubric import Rubric
from cssw_docs.rules import storyboard_due
from cssw_docs.validate import validate

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PARTS = ("floor", "pack", "batch", "latency", "pdf", "booklet", "memory")

# The targets, checked against the measured figures.
TARGETS = {
    "pack_ratio": 1.15,  # pack / compiled-once floor (CPU time), at most
    "batch_speedup": 1.85,  # 2 workers / 1 worker (median of the rounds), at least
    "parent_share": 0.05,  # the service process's CPU / the batch's CPU, at most
    "latency_margin": 0.25,  # median drop-to-pack at most settle + this (both patterns)
    "pdf_speedup": 5.0,  # 20 separate calls / one call, at least
    "memory_growth": 0.20,  # peak RSS at the large N within this of the small N
}

# How often each example appears in the mix (a QA unit sees mostly Good and RI finals).
MIX_WEIGHTS = {
    "good": 30,
    "requires-improvement": 25,
    "outstanding": 10,
    "inadequate": 10,
    "draft": 20,
    "disagree": 5,
}
MIN_ACTIONS, MAX_ACTIONS = 2, 25
WORKERS = (1, 2, 4)  # batch rounds: 4 is more processes than this machine's 2 cores
LARGE_WORKERS = (1, 2)  # rounds at the large N (about 2 minutes a round)
SPREAD_LIMIT = 0.15  # (max - min) / median of a speed-up past which one round may mislead
CORES_PROJECTED = (2, 4, 8, 16)


# --- statistics ---------------------------------------------------------------------------


def median(values: Iterable[float]) -> float:
    """Return the median of ``values`` (NaN when there are none)."""
    data = list(values)
    return statistics.median(data) if data else math.nan


def percentile(values: Iterable[float], q: float) -> float:
    """Return the ``q``-th percentile (0-100) by the nearest-rank method (NaN when empty)."""
    data = sorted(values)
    if not data:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(data)))
    return data[min(rank, len(data)) - 1]


def p95(values: Iterable[float]) -> float:
    """Return the 95th percentile of ``values`` by nearest rank."""
    return percentile(values, 95)


# --- the workbook mix ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class MixItem:
    """One workbook of the mix: which example it grew from, and the audit itself."""

    base: str
    submission: Submission

    @property
    def ref(self) -> str:
        """Return the audit reference (unique in the mix)."""
        return self.submission.audit_ref


def _actions(base: tuple[Action, ...], size: int) -> tuple[Action, ...]:
    """Return ``size`` actions: the example's own first, then numbered follow-up steps."""
    out = list(base[:size])
    step = 1
    while len(out) < size:
        a = base[(len(out) - len(base)) % len(base)]
        step += 1
        text = f"{a.action.rstrip('.')}, and review progress in supervision (step {step})."
        out.append(dataclasses.replace(a, action=text, row=None))
    return tuple(out)


def _retyped(sub: Submission, kind: Any) -> Submission:
    """Return ``sub`` as an audit of type ``kind``, with the fields that type needs."""
    changes: dict[str, Any] = {"audit_type": kind.name}
    if kind.requires_theme and not sub.audit_theme:
        changes["audit_theme"] = "Neglect and the lived experience of the child"
    if kind.requires_observation:
        if not sub.observation_activity:
            changes["observation_activity"] = "Home visit with the allocated social worker."
        changes["observation_consent"] = Consent.YES
    return dataclasses.replace(sub, **changes)


def make_mix(n: int, rubric: Rubric, settings: Settings, *, seed: int = 7, prefix: str = "BENCH"):
    """Return ``n`` valid audits with unique references and varied types, ratings and plans.

    Each grows from one of the valid examples (weighted by ``MIX_WEIGHTS``), takes a random
    audit type and a plan of 2-25 actions; a change the validator refuses is undone, so every
    audit in the mix becomes a pack.
    """
    rng = random.Random(seed)
    names = sorted(MIX_WEIGHTS)
    bases = {name: examples.example(name, rubric) for name in names}
    weights = [MIX_WEIGHTS[name] for name in names]
    items: list[MixItem] = []
    for i in range(n):
        name = rng.choices(names, weights)[0]
        base = bases[name]
        ref = f"{prefix}-2026-{i + 1:05d}"  # the default reference format
        size = max(rng.randint(MIN_ACTIONS, MAX_ACTIONS), 1)
        kind = rng.choice(rubric.audit_types)
        tries = [
            _retyped(dataclasses.replace(base, actions=_actions(base.actions, size)), kind),
            dataclasses.replace(base, actions=_actions(base.actions, size)),
            dataclasses.replace(base, actions=_actions(base.actions, max(size, len(base.actions)))),
            base,
        ]
        for candidate in tries:
            candidate = dataclasses.replace(candidate, audit_ref=ref)
            if validate(candidate, rubric, settings.validation).ok:
                break
        else:  # pragma: no cover - the examples are valid, so the last try always is
            raise RuntimeError(f"the {name} example no longer validates")
        items.append(MixItem(name, candidate))
    return items


def describe_mix(items: list[MixItem]) -> dict[str, Any]:
    """Return counts of bases, types, stages, overall ratings and plan sizes in the mix."""

    def count(values: Iterable[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for v in values:
            out[v] = out.get(v, 0) + 1
        return dict(sorted(out.items()))

    subs = [item.submission for item in items]
    sizes = [len(s.actions) for s in subs]
    return {
        "workbooks": len(items),
        "examples": count(item.base for item in items),
        "types": count(s.audit_type for s in subs),
        "stages": count(str(s.audit_stage) for s in subs),
        "overall": count(str(s.overall_rating) for s in subs),
        "actions_min": min(sizes, default=0),
        "actions_median": median(sizes),
        "actions_max": max(sizes, default=0),
    }


def _write_one(args: tuple[Submission, Path, Rubric]) -> Path:
    from cssw_docs.workbook.generate import write_submission

    sub, path, rubric = args
    return write_submission(sub, path, rubric)


def write_workbooks(items: list[MixItem], folder: Path, rubric: Rubric) -> list[Path]:
    """Write each audit of the mix as ``<ref>.xlsx`` in ``folder`` (on every core)."""
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [(item.submission, folder / f"{item.ref}.xlsx", rubric) for item in items]
    with cf.ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        return list(pool.map(_write_one, jobs, chunksize=8))


# --- the machine --------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """Return what the figures were measured on: CPU, cores, memory, Python, LibreOffice."""
    cpu = platform.processor() or platform.machine()
    try:
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                cpu = row.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    office = "not installed"
    soffice = pdf.soffice_path()
    if soffice:
        try:
            done = subprocess.run(
                [soffice, "--version"], capture_output=True, text=True, timeout=60
            )
            office = done.stdout.strip().splitlines()[0] if done.stdout.strip() else "unknown"
        except (OSError, subprocess.SubprocessError):
            office = "unknown"
    from importlib.metadata import version

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "libreoffice": office,
        "docxtpl": version("docxtpl"),
        "openpyxl": version("openpyxl"),
    }


# --- 1 and 2: floor and pack --------------------------------------------------------------


FLOOR_STEPS = ("open", "render", "save")


def floor_render(
    sub: Submission,
    context: dict[str, Any],
    folder: Path,
    *,
    compiled: bool = False,
    steps: dict[str, float] | None = None,
) -> None:
    """Render and save the pack's documents with bare docxtpl (the irreducible cost).

    With ``compiled`` the templates come from cssw-docs's compile-once environment, as the
    pipeline renders them; otherwise each render gets a fresh Jinja environment, as docxtpl
    is used out of the box. ``steps`` adds up the CPU time of opening the template (unzip
    and parse every XML part), rendering (Jinja, then parsing the result) and saving
    (serialising every part and zipping it).
    """
    from docxtpl import DocxTemplate
    from jinja2 import Environment, StrictUndefined

    clock = time.process_time
    for kind in render.document_kinds(sub):
        t0 = clock()
        tpl = DocxTemplate(str(render.template_path(kind)))
        tpl.get_docx()
        t1 = clock()
        env = (
            render.jinja_env()
            if compiled
            else Environment(undefined=StrictUndefined, autoescape=True)
        )
        tpl.render(context, jinja_env=env, autoescape=True)
        t2 = clock()
        tpl.save(str(folder / f"{kind}.docx"))
        if steps is not None:
            for name, spent in zip(FLOOR_STEPS, (t1 - t0, t2 - t1, clock() - t2), strict=True):
                steps[name] = steps.get(name, 0.0) + spent


def ours_render(sub: Submission, context: dict[str, Any], folder: Path) -> None:
    """Render the pack's documents as cssw-docs does (``render.render_document``): the
    template's static parts neither parsed nor compressed again (``render/docxzip.py``)."""
    for kind in render.document_kinds(sub):
        render.render_document(
            render.template_path(kind), render.for_document(kind, context), folder / f"{kind}.docx"
        )


def pack_render(path: Path, rubric: Rubric, settings: Settings, outbox: Path) -> None:
    """Check and render one workbook end to end through the library."""
    checked = pipeline.check(path, rubric, settings)
    if not checked.ok:
        raise RuntimeError(f"{path.name} did not validate: {sorted(checked.report.codes())}")
    pipeline.render(checked, rubric, settings, outbox)


def measure_floor_and_pack(
    paths: list[Path], rubric: Rubric, settings: Settings, work: Path, profile: Path | None
) -> dict[str, Any]:
    """Return per-workbook floor and pack times, measured in pairs on the same workbooks."""
    from cssw_docs.workbook.parse import read_workbook

    now = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    subs = [read_workbook(p, rubric, settings.validation) for p in paths]
    contexts = [
        render.build_context(s, rubric, marking=settings.render.marking, now=now) for s in subs
    ]
    scratch, outbox = work / "floor", work / "pack-outbox"
    scratch.mkdir(parents=True, exist_ok=True)
    # Warm up both paths (imports, file cache) on the first workbook, untimed.
    floor_render(subs[0], contexts[0], scratch)
    pack_render(paths[0], rubric, settings, work / "warm-outbox")
    floor_render(subs[0], contexts[0], scratch, compiled=True)
    ours_render(subs[0], contexts[0], scratch)
    floor_s: list[float] = []
    compiled_s: list[float] = []
    pack_s: list[float] = []
    cpu: dict[str, list[float]] = {"floor": [], "compiled": [], "ours": [], "pack": []}
    steps: dict[str, float] = {}
    profiler = cProfile.Profile() if profile else None
    for i, (path, sub, ctx) in enumerate(zip(paths, subs, contexts, strict=True)):
        # Rotate which runs first, so none always finds the caches warm.
        order = ["floor", "compiled", "ours", "pack"]
        order = order[i % 4 :] + order[: i % 4]
        for which in order:
            t0, c0 = time.perf_counter(), time.process_time()
            if which == "floor":
                floor_render(sub, ctx, scratch)
                floor_s.append(time.perf_counter() - t0)
            elif which == "compiled":
                floor_render(sub, ctx, scratch, compiled=True, steps=steps)
                compiled_s.append(time.perf_counter() - t0)
            elif which == "ours":
                ours_render(sub, ctx, scratch)
            else:
                if profiler:
                    profiler.enable()
                pack_render(path, rubric, settings, outbox)
                if profiler:
                    profiler.disable()
                pack_s.append(time.perf_counter() - t0)
            cpu[which].append(time.process_time() - c0)
    ratios = [p / f for p, f in zip(pack_s, floor_s, strict=True)]
    documents = sum(len(render.document_kinds(s)) for s in subs)
    result = {
        "workbooks": len(paths),
        "documents": documents,
        "floor_median_s": median(floor_s),
        "floor_p95_s": p95(floor_s),
        "compiled_median_s": median(compiled_s),
        "pack_median_s": median(pack_s),
        "pack_p95_s": p95(pack_s),
        "ratio_median": median(ratios),
        "ratio_total": sum(pack_s) / sum(floor_s),
        "ratio_compiled_median": median(p / c for p, c in zip(pack_s, compiled_s, strict=True)),
        "overhead_median_s": median(p - f for p, f in zip(pack_s, floor_s, strict=True)),
        "overhead_compiled_median_s": median(
            p - c for p, c in zip(pack_s, compiled_s, strict=True)
        ),
        "floor_s": floor_s,
        "compiled_s": compiled_s,
        "pack_s": pack_s,
        # CPU time: what the code costs, whatever else the machine is doing.
        "cpu_floor_median_s": median(cpu["floor"]),
        "cpu_compiled_median_s": median(cpu["compiled"]),
        "cpu_pack_median_s": median(cpu["pack"]),
        "cpu_ratio_compiled": sum(cpu["pack"]) / sum(cpu["compiled"]),
        "cpu_ratio_compiled_median": median(
            p / c for p, c in zip(cpu["pack"], cpu["compiled"], strict=True)
        ),
        "cpu_per_document_s": sum(cpu["compiled"]) / documents,
        "cpu_ours_per_document_s": sum(cpu["ours"]) / documents,
        "floor_steps_per_document_s": {k: v / documents for k, v in steps.items()},
    }
    if profiler and profile:
        profiler.dump_stats(str(profile))
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(30)
        result["profile_top"] = buffer.getvalue()
    return result


def _openpyxl_read_only(path: Path) -> None:
    """Load a workbook in openpyxl's fastest mode and read every value (no styles, no tables)."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    for ws in book.worksheets:
        for _row in ws.iter_rows(values_only=True):
            pass
    book.close()


def _xml_only(path: Path) -> None:
    """Unzip a workbook and parse every XML part: a lower bound for any workbook reader."""
    import zipfile

    from lxml import etree

    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.endswith((".xml", ".rels")):
                etree.fromstring(zf.read(name))


def measure_stages(paths: list[Path], rubric: Rubric, settings: Settings) -> dict[str, float]:
    """Return the median time of each step of ``pipeline.check``, and of lighter readers.

    ``read_workbook`` uses cssw-docs's own reader (``workbook/xlsx.py``); ``openpyxl`` (a full
    load), ``openpyxl_read_only`` and ``xml_only`` (a lower bound) are there to compare it with.
    """
    import openpyxl

    from cssw_docs.workbook import safety
    from cssw_docs.workbook.parse import read_workbook

    limits = settings.validation
    plan: list[tuple[str, Callable[[Path, Any], Any]]] = [
        ("sha256", lambda p, _: pipeline.sha256_of(p)),
        ("safety", lambda p, _: safety.open_workbook(p, limits)),
        ("openpyxl", lambda p, _: openpyxl.load_workbook(p, data_only=True)),
        ("read_workbook", lambda p, _: read_workbook(p, rubric, limits)),
        ("validate", lambda _, sub: validate(sub, rubric, limits)),  # sub: read_workbook's
        ("openpyxl_read_only", lambda p, _: _openpyxl_read_only(p)),
        ("xml_only", lambda p, _: _xml_only(p)),
    ]
    steps: dict[str, list[float]] = {}
    for path in paths:
        value = None
        for name, fn in plan:
            t0 = time.perf_counter()
            result = fn(path, value)
            steps.setdefault(name, []).append(time.perf_counter() - t0)
            value = result if name == "read_workbook" else value
    return {f"{k}_median_s": median(v) for k, v in steps.items()}


# --- watcher subprocesses: batch and memory -----------------------------------------------


def service_config(base: Path, *, settle: float = 1.0, rescan: float = 30.0) -> Path:
    """Write a cssw-docs.toml for a watcher under ``base``: PDF off, no SMTP (.eml files)."""
    for sub in ("intake", "outbox", "state"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    path = base / "cssw-docs.toml"
    path.write_text(
        "[service]\n"
        f'intake = "{base / "intake"}"\n'
        f'outbox = "{base / "outbox"}"\n'
        f'state_dir = "{base / "state"}"\n'
        f"settle_seconds = {settle}\n"
        f"rescan_seconds = {rescan}\n"
        "[render]\npdf = false\nstoryboard_pdf = false\n"
        '[mail]\nhost = ""\n',
        encoding="utf-8",
    )
    return path


def _clean_env() -> dict[str, str]:
    """Return the environment without CSSW_DOCS_* settings (the bench sets its own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CSSW_DOCS_")}


def _proc_tree(root: int) -> list[int]:
    """Return ``root`` and all its descendants, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += parents.get(pid, [])
    return tree


def _status_kb(pid: int, key: str) -> int:
    try:
        for row in Path(f"/proc/{pid}/status").read_text().splitlines():
            if row.startswith(key + ":"):
                return int(row.split()[1])
    except (OSError, ValueError):
        pass
    return 0


PSS_EVERY = 10


def _pss_kb(pid: int) -> int:
    """Return the proportional set size of ``pid`` (shared pages split among their sharers)."""
    try:
        for row in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if row.startswith("Pss:"):
                return int(row.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _cpu_ticks(pid: int) -> int:
    """Return the user + system CPU clock ticks of process ``pid`` so far (0 once gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, ValueError, IndexError):
        return 0


class TreeMemory(threading.Thread):
    """Samples the resident memory and CPU time of a process and its descendants until stopped.

    The CPU time of each process is its last sample, so a process's last ``every`` seconds
    may be missed; the worker processes live for the whole batch, so little is.
    """

    def __init__(self, pid: int, every: float = 0.05, *, memory: bool = True) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.memory = pid, every, memory
        self.peak_tree_kb = 0
        self.peak_pss_kb = 0
        self.peak_process_kb: dict[int, int] = {}
        self.cpu_ticks: dict[int, int] = {}
        self.samples = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            total = pss = 0
            for pid in _proc_tree(self.pid):
                ticks = _cpu_ticks(pid)
                if ticks:
                    self.cpu_ticks[pid] = max(self.cpu_ticks.get(pid, 0), ticks)
                if not self.memory:
                    continue
                rss = _status_kb(pid, "VmRSS")
                total += rss
                if self.samples % PSS_EVERY == 0:  # costlier to read: every tenth sample
                    pss += _pss_kb(pid)
                hwm = _status_kb(pid, "VmHWM")
                if hwm:
                    self.peak_process_kb[pid] = max(self.peak_process_kb.get(pid, 0), hwm)
            self.peak_tree_kb = max(self.peak_tree_kb, total)
            self.peak_pss_kb = max(self.peak_pss_kb, pss)
            self.samples += 1
            self._halt.wait(self.every)

    def stop(self) -> dict[str, Any]:
        """Stop sampling; return the CPU seconds of the other processes (and the peaks in MiB)."""
        self._halt.set()
        self.join()
        tick = os.sysconf("SC_CLK_TCK")
        out: dict[str, Any] = {
            "others_cpu_s": sum(t for pid, t in self.cpu_ticks.items() if pid != self.pid) / tick,
            "processes": len(self.cpu_ticks),
            "samples": self.samples,
        }
        if self.memory:
            peaks = sorted(self.peak_process_kb.values(), reverse=True)
            out["peak_tree_mib"] = self.peak_tree_kb / 1024
            out["peak_pss_mib"] = self.peak_pss_kb / 1024
            out["peak_process_mib"] = (peaks[0] / 1024) if peaks else 0.0
        return out


def machine_cpu() -> tuple[float, float]:
    """Return (busy, steal) CPU seconds of the whole machine since boot, from /proc/stat."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return math.nan, math.nan
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    steal = fields[7] if len(fields) > 7 else 0
    return (sum(fields[:8]) - idle - steal) / tick, steal / tick


def children_cpu() -> float:
    """Return the CPU seconds used by this process's finished children (and theirs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


_PHASE_LINE = re.compile(r"service process: (.*); in all CPU ([\d.]+) s over ([\d.]+) s")
_PHASE_ITEM = re.compile(r"([a-z][a-z ]*?) ([\d.]+) s \(CPU ([\d.]+) s\)")


def service_phases(log_text: str) -> dict[str, Any] | None:
    """Return the service process's own time, phase by phase, from its last "service process"
    log line: {"phases": {phase: {"wall_s", "cpu_s"}}, "cpu_s", "wall_s"} (None: no line)."""
    found = None
    for row in log_text.splitlines():
        m = _PHASE_LINE.search(row)
        if m:
            found = m
    if found is None:
        return None
    phases = {
        name.strip(): {"wall_s": float(wall), "cpu_s": float(cpu)}
        for name, wall, cpu in _PHASE_ITEM.findall(found[1])
    }
    return {"phases": phases, "cpu_s": float(found[2]), "wall_s": float(found[3])}


def pack_times(log_text: str) -> list[float]:
    """Return the times (epoch seconds) of the "pack ... made" lines of a service log."""
    out = []
    for row in log_text.splitlines():
        if " pack " in row and " made in " in row:
            try:
                clock = dt.datetime.strptime(row[:23], "%Y-%m-%d %H:%M:%S,%f")
            except ValueError:
                continue
            out.append(clock.timestamp())
    return out


def steady_rate(times: list[float]) -> float:
    """Return packs per second between the first and the last pack (NaN for fewer than 2)."""
    if len(times) < 2 or max(times) <= min(times):
        return math.nan
    return (len(times) - 1) / (max(times) - min(times))


def watch_once(
    paths: list[Path], base: Path, workers: int | None, *, memory: bool = False
) -> dict[str, Any]:
    """Return the wall time (and memory) of ``cssw-docs watch --once`` over copies of ``paths``."""
    if base.exists():
        shutil.rmtree(base)
    config = service_config(base)
    for p in paths:
        shutil.copy2(p, base / "intake" / p.name)
    command = [sys.executable, "-m", "cssw_docs", "watch", "--config", str(config), "--once"]
    if workers:
        command += ["--workers", str(workers)]
    cpu0, (busy0, steal0) = children_cpu(), machine_cpu()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=base, env=_clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    # Memory is sampled often (peaks are brief); CPU time alone needs fewer samples.
    sampler = TreeMemory(proc.pid, 0.05 if memory else 0.25, memory=memory)
    sampler.start()
    output, _ = proc.communicate()
    seconds = time.perf_counter() - t0
    cpu, (busy, steal) = children_cpu() - cpu0, machine_cpu()
    mem = sampler.stop()
    made = len(list((base / "outbox").glob("*/*/manifest.json")))
    if proc.returncode != 0 or made != len(paths):
        raise RuntimeError(
            f"watch --once made {made} of {len(paths)} packs (exit {proc.returncode}):\n"
            + output.decode("utf-8", "replace")[-2000:]
        )
    log_text = (base / "state" / "service.log").read_text("utf-8", "replace")
    parent = service_phases(log_text)
    parent_cpu = parent["cpu_s"] if parent else math.nan
    total_cpu = parent_cpu + mem["others_cpu_s"]
    return {
        "workbooks": len(paths),
        "workers": workers or os.cpu_count(),
        "seconds": seconds,
        "packs_per_s": len(paths) / seconds,
        "steady_packs_per_s": steady_rate(pack_times(log_text)),
        "cpu_s": cpu,
        "parent": parent,
        "parent_cpu_s": parent_cpu,
        "batch_cpu_s": total_cpu,
        "parent_share": parent_cpu / total_cpu if total_cpu else math.nan,
        "machine_busy_s": busy - busy0,
        "machine_steal_s": steal - steal0,
        **mem,
    }


def spread(values: list[float]) -> dict[str, float]:
    """Return min, median and max of ``values`` and their spread, (max - min) / median."""
    mid = median(values)
    return {
        "min": min(values, default=math.nan),
        "median": mid,
        "max": max(values, default=math.nan),
        "spread": (max(values) - min(values)) / mid if values and mid else math.nan,
    }


def judge(figures: dict[str, float], target: float) -> str:
    """Return whether a speed-up measured in rounds meets ``target``: "yes" when every round
    does, "no" when none does, else "spread too wide to judge" (one round decides it)."""
    if figures["min"] >= target:
        return "yes"
    if figures["max"] < target:
        return "no"
    return "spread too wide to judge"


def amdahl(serial: float, cores: int) -> float:
    """Return the speed-up on ``cores`` of work whose ``serial`` fraction runs on one."""
    return 1.0 / (serial + (1.0 - serial) / cores)


def batch_summary(rounds: list[dict[int, dict[str, Any]]]) -> dict[str, Any]:
    """Return the batch figures from interleaved rounds ({workers: watch_once result} each).

    Each round's speed-ups compare runs made side by side, so a slow moment on a shared
    machine moves one round, not the whole comparison.
    """
    speedups: dict[int, list[float]] = {}
    for r in rounds:
        one = r[1]["packs_per_s"]
        for workers, run_ in r.items():
            if workers != 1:
                speedups.setdefault(workers, []).append(run_["packs_per_s"] / one)
    return {
        "rounds": len(rounds),
        "rates": {w: spread([r[w]["packs_per_s"] for r in rounds if w in r]) for w in rounds[0]},
        "speedups": {w: spread(v) for w, v in speedups.items()},
        "speedup_values": speedups,
        "verdict": judge(spread(speedups.get(2, [])), TARGETS["batch_speedup"])
        if 2 in speedups
        else "",
        "runs": rounds,
    }


def serial_summary(run_: dict[str, Any]) -> dict[str, Any]:
    """Return the service process's share of a batch and the speed-ups Amdahl's law allows."""
    share = run_["parent_share"]
    phases = (run_.get("parent") or {}).get("phases", {})
    total = run_["batch_cpu_s"]
    return {
        "workbooks": run_["workbooks"],
        "workers": run_["workers"],
        "share": share,
        "parent_cpu_s": run_["parent_cpu_s"],
        "batch_cpu_s": total,
        "batch_s": run_["seconds"],
        "phases": {
            name: {
                "cpu_s": p["cpu_s"],
                "wall_s": p["wall_s"],
                "cpu_share": p["cpu_s"] / total if total else math.nan,
                "wall_share": p["wall_s"] / run_["seconds"],
            }
            for name, p in phases.items()
        },
        "amdahl": {n: amdahl(share, n) for n in CORES_PROJECTED} if share == share else {},
        "amdahl_ceiling": 1.0 / share if share and share == share else math.inf,
    }


# --- 4: latency ---------------------------------------------------------------------------


def _wait_for(path_glob: tuple[Path, str], deadline: float) -> bool:
    folder, pattern = path_glob
    while time.perf_counter() < deadline:
        if any(folder.glob(pattern)):
            return True
        time.sleep(0.005)
    return False


def measure_latency(
    paths: list[Path], base: Path, settle: float, rescan: float, gap: float = 1.0
) -> dict[str, Any]:
    """Return drop-to-pack times: each workbook renamed into a running watcher's intake.

    Drops alternate between back to back (as soon as the last job has finished) and spaced
    (``gap`` seconds later). The first drop warms the worker processes and is not counted.
    """
    if base.exists():
        shutil.rmtree(base)
    config = service_config(base, settle=settle, rescan=rescan)
    staging = base / "staging"
    staging.mkdir()
    for p in paths:
        shutil.copy2(p, staging / p.name)
    command = [sys.executable, "-m", "cssw_docs", "watch", "--config", str(config)]
    log = (base / "watch.out").open("wb")
    proc = subprocess.Popen(command, cwd=base, env=_clean_env(), stdout=log, stderr=log)
    series: dict[str, list[float]] = {"back_to_back": [], "spaced": []}
    try:
        started = base / "state" / "service.log"
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline and not (
            started.exists() and "started" in started.read_text("utf-8", "replace")
        ):
            time.sleep(0.02)
        for i, p in enumerate(paths):
            ref = p.stem
            pattern = "spaced" if i % 2 == 0 else "back_to_back"
            if pattern == "spaced":
                time.sleep(gap)
            t0 = time.perf_counter()
            os.rename(staging / p.name, base / "intake" / p.name)
            if not _wait_for((base / "outbox" / ref, "*/manifest.json"), t0 + 60):
                raise RuntimeError(f"no pack for {ref} within 60 s; see {base / 'watch.out'}")
            if i:
                series[pattern].append(time.perf_counter() - t0)
            # Let the job finish (move, email) so drops do not overlap.
            _wait_for((base / "intake" / "processed", f"*/{p.name}"), time.perf_counter() + 30)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    times = series["back_to_back"]
    spaced = series["spaced"]
    return {
        "drops": len(times),
        "settle_s": settle,
        "rescan_s": rescan,
        "gap_s": gap,
        "median_s": median(times),
        "p95_s": p95(times),
        "max_s": max(times, default=math.nan),
        "spaced_drops": len(spaced),
        "spaced_median_s": median(spaced),
        "spaced_p95_s": p95(spaced),
        "times_s": times,
        "spaced_times_s": spaced,
    }


# --- 5: PDF -------------------------------------------------------------------------------


def measure_pdf(items: list[MixItem], rubric: Rubric, n: int, folder: Path) -> dict[str, Any]:
    """Return the time to convert ``n`` storyboards in one LibreOffice call and in ``n`` calls."""
    if pdf.soffice_path() is None:
        return {"skipped": "LibreOffice is not installed"}
    finals = [it.submission for it in items if storyboard_due(it.submission)]
    if not finals:
        finals = [examples.good(rubric)]
    source = folder / "docx"
    source.mkdir(parents=True, exist_ok=True)
    docs = []
    for i in range(n):
        sub = dataclasses.replace(finals[i % len(finals)], audit_ref=f"PDF-{i + 1:03d}")
        ctx = render.build_context(sub, rubric)
        out = source / f"PDF-{i + 1:03d} Storyboard.docx"
        render.render_document(render.template_path(DocKind.STORYBOARD), ctx, out)
        docs.append(out)
    pdf.convert(docs[:1], folder / "warm")  # untimed: LibreOffice's files into the OS cache
    t0 = time.perf_counter()
    pdf.convert(docs, folder / "one-call")
    one = time.perf_counter() - t0
    each: list[float] = []
    for doc in docs:
        t0 = time.perf_counter()
        pdf.convert([doc], folder / "per-document")
        each.append(time.perf_counter() - t0)
    return {
        "documents": n,
        "one_call_s": one,
        "separate_calls_s": sum(each),
        "per_call_median_s": median(each),
        "speedup": sum(each) / one,
    }


# --- the report ---------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def met(ok: bool) -> str:
    """Return the table's "Met" cell."""
    return "yes" if ok else "**no**"


CARBONE_MS = 10  # Carbone's published render time per DOCX, for comparison


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def _rounds_row(b: dict[str, Any], label: str = "3a") -> tuple[str, str, str, str]:
    """Return the row of a batch's interleaved rounds (``label`` numbers it in the table)."""
    n = b["runs"][0][1]["workbooks"]
    rates = "; ".join(
        f"{w} worker{'s' if w > 1 else ''} {r['median']:.1f} packs/s"
        for w, r in sorted(b["rates"].items())
    )
    parts = []
    for w, sp in sorted(b["speedups"].items()):
        parts.append(
            f"{w} workers {sp['median']:.2f}x (min {sp['min']:.2f}, max {sp['max']:.2f}, "
            f"spread {_pct(sp['spread'])})"
        )
    verdict = b["verdict"]
    note = ""
    two = b["speedups"].get(2)
    if two and two["spread"] > SPREAD_LIMIT:
        note = f"; spread over {_pct(SPREAD_LIMIT)}: too wide to judge a change between runs"
    cell = "yes" if verdict == "yes" else ("**no**" if verdict == "no" else verdict)
    return (
        f"{label} Batch: watch --once, {n} workbooks, {b['rounds']} interleaved "
        f"round{'s' if b['rounds'] != 1 else ''}",
        f"medians {rates}; speed-up {'; '.join(parts)}{note}",
        f"2 workers >= {TARGETS['batch_speedup']}x in every round",
        cell,
    )


def _serial_row(sr: dict[str, Any]) -> tuple[str, str, str, str]:
    """Return the row of the service process's own share of a batch, and Amdahl's projection."""
    phases = ", ".join(
        f"{name} {_pct(p['cpu_share'])} ({p['wall_s']:.2f} s wall)"
        for name, p in sr["phases"].items()
    )
    projected = ", ".join(f"{n} cores {x:.2f}x" for n, x in sr["amdahl"].items())
    return (
        f"3c Service process: its own share of {sr['workbooks']} workbooks "
        f"({sr['workers']} workers)",
        f"CPU {sr['parent_cpu_s']:.1f} s of {sr['batch_cpu_s']:.0f} s = {_pct(sr['share'])} "
        f"(by phase: {phases}); Amdahl from that share: {projected}, "
        f"ceiling {sr['amdahl_ceiling']:.0f}x",
        f"share < {_pct(TARGETS['parent_share'])}",
        met(sr["share"] < TARGETS["parent_share"]),
    )


def verdicts(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Return table rows (measure, result, target, met) for the parts that ran."""
    rows: list[tuple[str, str, str, str]] = []

    if "pack" in results:
        p = results["pack"]
        steps = p.get("floor_steps_per_document_s") or {}
        split = ", ".join(f"{k} {_ms(v)}" for k, v in steps.items())
        per_doc = p.get("cpu_per_document_s", math.nan)
        rows.append(
            (
                "1 Floor: docxtpl render + save, per workbook",
                f"templates compiled once: median {_ms(p['compiled_median_s'])}, CPU "
                f"{_ms(p.get('cpu_compiled_median_s', math.nan))}; per document CPU "
                f"{_ms(per_doc)} ({split}), as cssw-docs renders (static parts kept) "
                f"{_ms(p.get('cpu_ours_per_document_s', math.nan))}, against Carbone's "
                f"~{CARBONE_MS} ms; "
                f"docxtpl out of the box: median {_ms(p['floor_median_s'])}, p95 "
                f"{_ms(p['floor_p95_s'])} ({p['documents']} documents from "
                f"{p['workbooks']} workbooks)",
                "",
                "",
            )
        )
        ratio = p.get("cpu_ratio_compiled", p["ratio_compiled_median"])
        rows.append(
            (
                "2 Pack: check + render, per workbook",
                f"median {_ms(p['pack_median_s'])}, p95 {_ms(p['pack_p95_s'])}, CPU "
                f"{_ms(p.get('cpu_pack_median_s', math.nan))}; against the compiled-once "
                f"floor {ratio:.2f} (CPU, totals), {p['ratio_compiled_median']:.2f} (wall, "
                f"median of pairs); against docxtpl out of the box {p['ratio_median']:.2f}",
                f"pack/compiled-once floor <= {TARGETS['pack_ratio']}",
                met(ratio <= TARGETS["pack_ratio"]),
            )
        )
    if "batch" in results:
        rows.append(_rounds_row(results["batch"], "3a"))
    if "batch_large" in results:
        rows.append(_rounds_row(results["batch_large"], "3b"))
    if "serial" in results:
        rows.append(_serial_row(results["serial"]))
    if "latency" in results:
        lat = results["latency"]
        limit = lat["settle_s"] + TARGETS["latency_margin"]
        rows.append(
            (
                f"4 Latency: drop to pack, {lat['drops']} + {lat['spaced_drops']} drops",
                f"back to back: median {lat['median_s']:.2f} s, p95 {lat['p95_s']:.2f} s; "
                f"{lat['gap_s']:g} s apart: median {lat['spaced_median_s']:.2f} s, "
                f"p95 {lat['spaced_p95_s']:.2f} s (settle {lat['settle_s']:g} s)",
                f"both medians <= settle + {TARGETS['latency_margin']} s = {limit:g} s",
                met(lat["median_s"] <= limit and lat["spaced_median_s"] <= limit),
            )
        )
    if "pdf" in results and "skipped" not in results["pdf"]:
        d = results["pdf"]
        rows.append(
            (
                f"5 PDF: {d['documents']} storyboards",
                f"one call {d['one_call_s']:.1f} s; {d['documents']} calls "
                f"{d['separate_calls_s']:.1f} s; speed-up {d['speedup']:.1f}x",
                f"speed-up >= {TARGETS['pdf_speedup']:g}x",
                met(d["speedup"] >= TARGETS["pdf_speedup"]),
            )
        )
    if "booklet" in results and "skipped" not in results["booklet"]:
        b = results["booklet"]
        rows.append(
            (
                f"5b Booklet: {b['storyboards']} storyboards",
                f"{b['pages']} pages to PDF in one LibreOffice call: {b['pdf_s']:.1f} s, "
                f"{b['per_storyboard_ms']:.0f} ms a storyboard (the Word file {b['word_s']:.1f} s)",
                "",
                "",
            )
        )
    if "memory" in results:
        m = results["memory"]
        small, large = m["small"], m["large"]
        rows.append(
            (
                "6 Memory: watcher process tree, peak RSS",
                f"N={small['workbooks']}: {small['peak_tree_mib']:.0f} MiB; "
                f"N={large['workbooks']}: {large['peak_tree_mib']:.0f} MiB "
                f"({m['growth'] * 100:+.0f}%); largest process "
                f"{large['peak_process_mib']:.0f} MiB; "
                f"counting each shared page once (PSS): N={small['workbooks']} "
                f"{small.get('peak_pss_mib', math.nan):.0f} MiB, N={large['workbooks']} "
                f"{large.get('peak_pss_mib', math.nan):.0f} MiB",
                f"within {TARGETS['memory_growth'] * 100:.0f}%",
                met(abs(m["growth"]) <= TARGETS["memory_growth"]),
            )
        )
    return rows


def markdown(results: dict[str, Any]) -> str:
    """Return the results as a markdown table with the machine named above it."""
    m = results["machine"]
    lines = [
        f"Measured {results['started']} on {m['cpu']}, {m['cores']} cores, {m['memory']}, "
        f"Python {m['python']}, {m['libreoffice']} (docxtpl {m['docxtpl']}, "
        f"openpyxl {m['openpyxl']}){' - QUICK RUN' if results['quick'] else ''}.",
        "",
        "| Measure | Result | Target | Met |",
        "|---|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in verdicts(results)]
    return "\n".join(lines) + "\n"


def text_table(results: dict[str, Any]) -> str:
    """Return the results as a plain text table for the terminal."""
    rows = [("Measure", "Result", "Target", "Met"), *verdicts(results)]
    rows = [tuple(c.replace("**", "") for c in r) for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    out = []
    for n, r in enumerate(rows):
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out) + "\n"


# --- the run ------------------------------------------------------------------------------


def options(argv: list[str] | None = None) -> argparse.Namespace:
    """Return the command-line options (``--quick`` shrinks every size for a smoke run)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=None, help="workbooks per batch (default 100)")
    ap.add_argument("--large", type=int, default=None, help="large N for memory (default 1000)")
    ap.add_argument(
        "--drops", type=int, default=None, help="latency drops of each pattern (default 25)"
    )
    ap.add_argument("--pdf-n", type=int, default=None, help="storyboards for PDF (default 20)")
    ap.add_argument(
        "--booklet-n", type=int, default=None, help="storyboards in the booklet (default 100)"
    )
    ap.add_argument("--settle", type=float, default=1.0, help="settle_seconds for latency")
    ap.add_argument(
        "--rounds", type=int, default=None, help="interleaved batch rounds at --n (default 3)"
    )
    ap.add_argument(
        "--large-rounds",
        type=int,
        default=None,
        help="interleaved batch rounds at --large (default 3)",
    )
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    ap.add_argument("--only", default=",".join(PARTS), help=f"parts to run ({','.join(PARTS)})")
    ap.add_argument("--profile", action="store_true", help="cProfile the pack step")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = ap.parse_args(argv)
    small = {"n": 6, "large": 12, "drops": 3, "pdf_n": 3, "booklet_n": 3, "rounds": 1}
    full = {"n": 100, "large": 1000, "drops": 25, "pdf_n": 20, "booklet_n": 100, "rounds": 3}
    small["large_rounds"], full["large_rounds"] = 1, 3
    for key, value in (small if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(args.parts) - set(PARTS)
    if unknown:
        ap.error(f"unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}")
    return args


def batch_rounds(
    paths: list[Path], base: Path, workers: tuple[int, ...], rounds: int
) -> list[dict[int, dict[str, Any]]]:
    """Run ``watch --once`` over ``paths`` with each count of ``workers``, ``rounds`` times.

    Interleaved, in alternating order, so that no count always runs first or last.
    """
    out = []
    for r in range(rounds):
        order = workers if r % 2 == 0 else tuple(reversed(workers))
        runs = {
            w: _timed(
                f"watch --once, {w} worker(s), {len(paths)} workbooks (round {r + 1} of {rounds})",
                lambda w=w: watch_once(paths, base.with_name(f"{base.name}{w}"), w),
            )
            for w in order
        }
        out.append({w: runs[w] for w in workers})
    return out


def _say(text: str) -> None:
    print(text, flush=True)


def _timed(label: str, fn: Callable[[], Any]) -> Any:
    _say(f"... {label}")
    t0 = time.perf_counter()
    value = fn()
    _say(f"    done in {time.perf_counter() - t0:.1f} s")
    return value


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table and write it to the results folder."""
    args = options(argv)
    rubric = rubric_mod.load()
    settings = Settings().with_changes(**{"render.pdf": False, "render.storyboard_pdf": False})
    started = dt.datetime.now().astimezone()
    results: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "quick": args.quick,
        "options": {k: v for k, v in vars(args).items() if k not in ("out",)},
        "targets": TARGETS,
        "machine": machine(),
    }
    _say(f"cssw-docs benchmark on {results['machine']['cpu']} ({os.cpu_count()} cores)")
    need_large = "memory" in args.parts
    total = max(args.n, args.large if need_large else 0)
    with tempfile.TemporaryDirectory(prefix="cssw-bench-") as tmp:
        work = Path(tmp)
        items = make_mix(total + 2 * args.drops + 1, rubric, settings, seed=args.seed)
        batch_items = items[:total]
        results["mix"] = describe_mix(batch_items[: args.n])
        paths = _timed(
            f"writing {len(items)} workbooks",
            lambda: write_workbooks(items, work / "workbooks", rubric),
        )
        small = paths[: args.n]
        if "floor" in args.parts or "pack" in args.parts:
            prof = args.out / "pack.prof" if args.profile else None
            if prof:
                args.out.mkdir(parents=True, exist_ok=True)
            results["pack"] = _timed(
                f"floor and pack over {len(small)} workbooks",
                lambda: measure_floor_and_pack(small, rubric, settings, work / "pack", prof),
            )
            results["pack"]["stages"] = measure_stages(small[:20], rubric, settings)
        if "batch" in args.parts or "memory" in args.parts:
            results["batch"] = batch_summary(
                batch_rounds(small, work / "batch", WORKERS, args.rounds)
            )
        if "latency" in args.parts:
            results["latency"] = _timed(
                f"latency, {args.drops} drops back to back and {args.drops} spaced",
                lambda: measure_latency(paths[total:], work / "latency", args.settle, rescan=2.0),
            )
        if "pdf" in args.parts:
            results["pdf"] = _timed(
                f"PDF, {args.pdf_n} storyboards",
                lambda: measure_pdf(batch_items, rubric, args.pdf_n, work / "pdf"),
            )
        if "booklet" in args.parts:  # bench/booklet.py: N storyboards, one LibreOffice call
            import booklet  # beside this script (on sys.path when run as `python bench/run.py`)

            results["booklet"] = _timed(
                f"booklet, {args.booklet_n} storyboards",
                lambda: booklet.measure_booklet(rubric, args.booklet_n, work / "booklet"),
            )
            _say(booklet.summary(results["booklet"]))
        if "memory" in args.parts:
            # Memory is sampled in runs of its own, never in a run a speed-up is taken from:
            # reading every process's memory 20 times a second costs the sampler CPU that, on
            # two cores, only the 2-worker runs (no core to spare) would pay.
            small_run = _timed(
                f"watch --once, 2 workers, {len(small)} workbooks (memory)",
                lambda: watch_once(small, work / "memoryS", 2, memory=True),
            )
            large = _timed(
                f"watch --once, 2 workers, {args.large} workbooks (memory)",
                lambda: watch_once(paths[: args.large], work / "memoryL", 2, memory=True),
            )
            results["memory"] = {
                "small": small_run,
                "large": large,
                "growth": large["peak_tree_mib"] / small_run["peak_tree_mib"] - 1,
            }
            results["serial"] = serial_summary(large)
            if "batch" in args.parts:
                rounds = batch_rounds(
                    paths[: args.large], work / "batchL", LARGE_WORKERS, args.large_rounds
                )
                results["batch_large"] = batch_summary(rounds)
                # The service's share from the 2-worker run of median share, not the
                # memory run (its sampler's CPU would count against the workers).
                twos = sorted((r[2] for r in rounds), key=lambda run_: run_["parent_share"])
                results["serial"] = serial_summary(twos[len(twos) // 2])
    results["seconds"] = (dt.datetime.now().astimezone() - started).total_seconds()
    if "batch" not in args.parts:
        results.pop("batch", None)
    table = text_table(results)
    _say("")
    _say(markdown(results).splitlines()[0])
    _say(table)
    if "pack" in results:
        stages = results["pack"]["stages"]
        _say(
            "Where check() spends its time (medians): "
            + ", ".join(f"{k.removesuffix('_median_s')} {_ms(v)}" for k, v in stages.items())
        )
    if "profile_top" in results.get("pack", {}):
        _say(results["pack"]["profile_top"])
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    blob = json.dumps(results, indent=2, default=str) + "\n"
    md = markdown(results)
    for name in (f"bench-{stamp}", "latest"):
        (args.out / f"{name}.json").write_text(blob, encoding="utf-8")
        (args.out / f"{name}.md").write_text(md, encoding="utf-8")
    _say(f"Written to {args.out}/latest.json and latest.md ({results['seconds']:.0f} s in all).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
