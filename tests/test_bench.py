"""The benchmark harness (bench/run.py) in its --quick form, so that it cannot rot.

No timing assertions: only that a tiny run completes and reports every row.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

import run as bench_run  # noqa: E402 - bench/ is not a package


def test_quick_benchmark_reports_every_row(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "run.py"),
            "--quick",
            "--workdir",
            str(tmp_path / "work"),
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert proc.stdout.strip() == text.strip()  # it prints the table it writes
    for row in bench_run.ROWS:
        assert f"| {row}" in text, f"row {row!r} missing from:\n{text}"
    for fact in ("- date:", "- machine:", "- Python:", "- digest:", "- workload:"):
        assert fact in text
    assert "failed (exit" not in text
    # The workload was served and collected: the warm run saw nothing but 304s.
    assert "server: 4 x 304, 0 x 200" in text
    assert "skipped (--quick)" in text  # no rss2email, so no network


def test_quick_leaves_bench_results_alone() -> None:
    args = bench_run.parse_args(["--quick"])
    assert args.output is None and not args.rss2email
