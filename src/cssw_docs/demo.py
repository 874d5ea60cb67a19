"""``make demo``: drop the example workbooks into an intake folder and run the service once.

Everything goes under ``./demo-output/`` (emptied at the start of each run): ``intake/``,
``outbox/``, ``state/`` and a ``cssw-docs.toml`` pointing at them. The demo uses the built-in
settings, never a ``cssw-docs.toml`` of yours, and never sends email: messages are written
as ``.eml`` files.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import logging
import os
import shlex
import shutil
import sys
import tomllib
from pathlib import Path

from . import examples, rubric
from .config import Settings
from .models import JobState
from .service import logs
from .service.watch import Watcher
from .store import db, jobs
from .workbook.generate import write_submission


def demo_settings(base: Path) -> Settings:
    """Return the demo's settings (CONFIG_TEXT) with the service folders under ``base``."""
    data = tomllib.loads(CONFIG_TEXT)
    return Settings().with_changes(
        **{f"mail.{key}": value for key, value in data["mail"].items()},
        **{
            "service.intake": base / "intake",
            "service.outbox": base / "outbox",
            "service.state_dir": base / "state",
            "service.settle_seconds": 0.5,
        },
    )


DEMO_DIR = "demo-output"
CONFIG_TEXT = """# Written by `make demo`. The demo empties this folder each time it runs.
[service]
intake = "intake"
outbox = "outbox"
state_dir = "state"

# Fictional addresses, so every route shows. No mail server: emails are written as .eml files.
[mail]
host = ""
sender = "cssw-docs@camden.gov.uk"
allowed_domains = ["camden.gov.uk"]
qa_admin = ["qa.admin@camden.gov.uk"]
head_of_qa = ["head.of.qa@camden.gov.uk"]
smt = ["smt@camden.gov.uk"]
learning_development = ["learning.development@camden.gov.uk"]
moderation_coordinator = ["moderation.panel@camden.gov.uk"]
"""


class DemoError(Exception):
    """The demo cannot run; the message says why."""


def fresh_folder(base: Path) -> None:
    """Empty ``base`` when an earlier demo made it; refuse to touch a folder it did not make."""
    marker = base / "cssw-docs.toml"
    if base.exists():
        if not (marker.exists() and marker.read_text("utf-8").startswith(CONFIG_TEXT[:40])):
            raise DemoError(
                f"{base} already exists and was not made by the demo, so it was left alone. "
                "Move it away and run `make demo` again."
            )
        shutil.rmtree(base)
    base.mkdir(parents=True)
    marker.write_text(CONFIG_TEXT, encoding="utf-8")


def write_examples(intake: Path, the_rubric: rubric.Rubric) -> list[Path]:
    """Write every example workbook into ``intake`` (saved aside, then renamed in)."""
    intake.mkdir(parents=True, exist_ok=True)
    written = []
    for name in examples.EXAMPLES:
        tmp = intake.parent / f".{name}.xlsx.part"
        write_submission(examples.example(name, the_rubric), tmp, the_rubric)
        target = intake / f"{name}.xlsx"
        tmp.replace(target)
        written.append(target)
    return written


def _rel(path: Path | str, base: Path) -> str:
    try:
        return str(Path(path).relative_to(base))
    except ValueError:
        return str(path)


def _problem_lines(text: str) -> list[str]:
    """Return the first sentence of each numbered problem in a findings text."""
    items: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped[:1].isdigit() and ". " in stripped:
            items.append(stripped)
        elif items and stripped and not stripped.startswith("Where:") and line.startswith(" "):
            items[-1] += " " + stripped
        elif not stripped and items:
            items.append("")
    firsts = []
    for item in filter(None, items):
        number, _, body = item.partition(". ")
        sentence = body.split(". ")[0].rstrip(".")
        firsts.append(f"{number}. {sentence}.")
    return firsts


def report(summary, base: Path, state: Path, outbox: Path) -> str:
    """Return the plain-English account of the run for a newcomer."""
    conn = db.open_ledger(state)
    try:
        rows = {o.job_id: jobs.get_job(conn, o.job_id) for o in summary.outcomes}
    finally:
        conn.close()
    lines: list[str] = []

    def by_name(kind: str) -> list:
        return sorted(summary.of_kind(kind), key=lambda o: rows[o.job_id]["source_name"])

    made = by_name(JobState.PROCESSED)
    if made:
        lines.append(f"Packs made ({len(made)}):")
        for o in made:
            pack_dir = Path(o.pack_dir)
            docs = sorted(p.name for p in pack_dir.glob("*") if p.suffix in (".docx", ".pdf"))
            lines.append(f"  {rows[o.job_id]['source_name']} -> {_rel(pack_dir, base)}/")
            lines += [f"      {d}" for d in docs]
    rejected = by_name(JobState.REJECTED)
    if rejected:
        lines += ["", f"Workbooks rejected ({len(rejected)}), with the reasons:"]
        for o in rejected:
            row = rows[o.job_id]
            folder = Path(row["dest_dir"])
            problems = folder / f"{row['out_stem']} - problems.txt"
            lines.append(f"  {row['source_name']} -> {_rel(folder, base)}/")
            lines.append(f"      reasons:     {problems.name}")
            marked = folder / f"{row['out_stem']} - marked.xlsx"
            if marked.exists():
                lines.append(f"      marked copy: {marked.name}")
            if problems.exists():
                lines += [f"        {p}" for p in _problem_lines(problems.read_text("utf-8"))]
    dups = summary.of_kind(JobState.DUPLICATE)
    if dups:
        lines += ["", f"Already processed on an earlier run, so set aside ({len(dups)}):"]
        folder = Path(dups[0].dest_dir)
        lines.append(f"  {len(dups)} workbook(s) moved to {_rel(folder, base)}/")
        lines.append("  (delete ./intake, ./outbox and ./state to start the demo afresh)")
    failed = summary.of_kind(JobState.FAILED)
    if failed:
        lines += ["", f"Set aside after repeated failures ({len(failed)}): see intake/failed/"]
    lines += ["", *_emails(outbox, base)]
    lines += ["", "Every step is logged in state/service.log."]
    return "\n".join(lines) + "\n"


def command_line(base: Path, python: Path | None = None) -> str:
    """Return how to run cssw-docs from inside ``base``, as a shell there can type it.

    ``cssw-docs`` alone is only found with the environment activated, so this is the path of
    the environment's own ``cssw-docs`` (``../.venv/bin/cssw-docs`` for ``make demo``), or
    ``python -m cssw_docs`` with that Python when there is no such script.
    """
    python = Path(python or sys.executable)
    for name in ("cssw-docs", "cssw-docs.exe"):
        script = python.parent / name
        if script.exists():
            return _relative_command(script, base)
    return f"{_relative_command(python, base)} -m cssw_docs"


def _relative_command(program: Path, base: Path) -> str:
    """Return ``program`` as typed from ``base``: relative when that is shorter, and quoted."""
    relative = os.path.relpath(program, base)
    shown = relative if len(relative) < len(str(program)) else str(program)
    if os.sep == "/" and "/" not in shown:
        shown = f"./{shown}"
    return shlex.quote(shown)


def next_steps(base: Path, cwd: Path, python: Path | None = None) -> list[str]:
    """Return the demo's closing hints: commands that run exactly as printed from ``cwd``."""
    go = f"cd {shlex.quote(_rel(base, cwd))} && {command_line(base, python)}"
    return [
        "Next, try (each line runs as it is, from this folder):",
        f"  {go} status",
        f"  {go} mail status",
        f"To try your own workbook: save it into {_rel(base, cwd)}/intake/, then run",
        f"  {go} watch --once",
    ]


def _emails(outbox: Path, base: Path) -> list[str]:
    mail_dir = outbox / "mail"
    files = sorted(mail_dir.rglob("*.eml")) if mail_dir.exists() else []
    if not files:
        return ["No emails were written."]
    folders = sorted({_rel(f.parent, base) for f in files})
    lines = [
        f"Emails ({len(files)}), written as .eml files because no mail server is set "
        f"(open them in Outlook or Thunderbird): {', '.join(f + '/' for f in folders)}"
    ]
    found = []
    for path in files:
        with path.open("rb") as fh:
            msg = email.message_from_binary_file(fh, policy=email.policy.default)
        found.append((str(msg["Subject"]), str(msg["To"])))
    lines += [f"  {subject}\n      to {to}" for subject, to in sorted(found)]
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the demo in ``./demo-output`` (or the folder given); return the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    base = Path(argv[0] if argv else DEMO_DIR).absolute()
    logging.basicConfig(
        level=logging.WARNING,
        handlers=[logs.stream_handler(sys.stderr, "%(levelname)s: %(message)s")],
    )
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.WARNING)  # the service's INFO lines go to state/service.log
    try:
        fresh_folder(base)
    except (DemoError, OSError) as exc:
        print(f"The demo did not run: {exc}", file=sys.stderr)
        return 1
    the_rubric = rubric.load()
    settings = demo_settings(base)
    intake = base / "intake"
    shown = _rel(base, Path.cwd())
    print(f"Writing {len(examples.EXAMPLES)} example workbooks into {shown}/intake/ ...")
    write_examples(intake, the_rubric)
    print("Running `cssw-docs watch --once` over them ...\n")
    watcher = Watcher(settings, the_rubric, once=True)
    started = dt.datetime.now()
    summary = watcher.run()
    seconds = (dt.datetime.now() - started).total_seconds()
    print(f"In {shown}/:")
    print(report(summary, base, watcher.folders.state, watcher.folders.outbox), end="")
    print(f"Done in {seconds:.0f} s.\n")
    print("\n".join(next_steps(base, Path.cwd())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
