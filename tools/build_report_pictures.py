"""Make the pictures (docs/images) of the activity report from a generated ledger, via LibreOffice.

Run ``.venv/bin/python tools/build_report_pictures.py [OUTDIR]`` (default ``docs/images``).
Needs LibreOffice (soffice) and poppler (pdftoppm). Writes oversight-summary.png (the summary
sheet), oversight-ratings-chart.png (the ratings sheet with its chart), oversight-months.png
(the trend by month) and oversight-word.png (the first page of the Word summary).
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cssw_docs import rubric
from cssw_docs.config import Settings
from cssw_docs.oversight import records, report, sample
from cssw_docs.store.db import connect as connect_ledger

AS_OF = dt.date(2026, 12, 1)
DPI = 90


def _pdf(source: Path, outdir: Path, profile: Path) -> Path:
    subprocess.run(
        ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
         "--convert-to", "pdf", "--outdir", str(outdir), str(source)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    return outdir / (source.stem + ".pdf")


def _png(pdf: Path, page: int, dest: Path, *, height: float = 1.0) -> Path:
    """Render one page of ``pdf`` at DPI, keeping the top ``height`` share of it."""
    stem = dest.with_suffix("")
    args = ["pdftoppm", "-png", "-r", str(DPI), "-f", str(page), "-l", str(page), "-singlefile"]
    if height < 1.0:
        info = subprocess.run(["pdfinfo", "-f", str(page), "-l", str(page), str(pdf)],
                              check=True, capture_output=True, text=True).stdout  # fmt: skip
        size = next(line for line in info.splitlines() if line.startswith(f"Page {page:4d} size"))
        width_pt, height_pt = (float(v) for v in size.split(":")[1].split("pts")[0].split("x"))
        args += ["-x", "0", "-y", "0", "-W", str(round(width_pt / 72 * DPI)),
                 "-H", str(round(height_pt / 72 * DPI * height))]  # fmt: skip
    subprocess.run([*args, str(pdf), str(stem)], check=True)
    return dest


def main(argv: list[str]) -> int:
    """Build the pictures into ARGV[0] or ``docs/images``."""
    root = Path(__file__).resolve().parent.parent
    outdir = Path(argv[0]) if argv else root / "docs" / "images"
    outdir.mkdir(parents=True, exist_ok=True)
    the_rubric = rubric.load()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = work / "ledger.sqlite3"
        rows = sample.audits(the_rubric, 120)
        conn = connect_ledger(db)
        sample.write(conn, rows)
        picked = [r.submission for r in rows if r.moderation_selected][:6]
        for i, sub in enumerate(picked):
            rating = sub.overall_rating.value if i % 3 else "Requires improvement"
            records.record_moderation(conn, sub.audit_ref, rating, "Panel discussion.", "Chair")
        conn.close()
        written = report.build(db, the_rubric, Settings(), start=dt.date(2026, 1, 1),
                               end=dt.date(2026, 11, 30), dest=work / "activity-2026",
                               as_of=AS_OF)  # fmt: skip
        profile = work / "lo-profile"
        xlsx_pdf = _pdf(written.xlsx, work, profile)
        shutil.copy(written.docx, work / "summary.docx")
        docx_pdf = _pdf(work / "summary.docx", work, profile)
        made = [
            _png(xlsx_pdf, 1, outdir / "oversight-summary.png", height=0.5),
            _png(xlsx_pdf, 2, outdir / "oversight-ratings-chart.png", height=0.92),
            _png(xlsx_pdf, 3, outdir / "oversight-months.png", height=0.86),
            _png(docx_pdf, 1, outdir / "oversight-word.png"),
        ]
    for path in made:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
