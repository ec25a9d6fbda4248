"""Golden files for the sample edition and one message.

A change to templates, summaries or headers shows here as a unified diff.
When the change is intended, run `python -m pytest tests/test_golden.py
--update-golden` and commit the new files in tests/data/golden/.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from pathlib import Path

import pytest

from digest import app
from digest import config as config_mod

GOLDEN = Path(__file__).parent / "data" / "golden"
NOW = dt.datetime(2025, 7, 4, 5, 30, tzinfo=dt.UTC)


def _normalise(text: str) -> str:
    """Blank the parts that may differ between runs of the same build."""
    return re.sub(r"(?m)^Date: .*$", "Date: <built_at>", text)


def check(name: str, actual: str, update: bool) -> None:
    path = GOLDEN / name
    actual = _normalise(actual)
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
        return
    if not path.exists():
        pytest.fail(f"{path} is missing: run pytest with --update-golden to write it")
    with path.open(encoding="utf-8", newline="") as f:  # keep the message's CRLFs
        expected = f.read()
    if actual != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                            f"golden/{name}", "actual", n=2))
        pytest.fail(f"{name} differs from its golden file (--update-golden if intended):\n{diff[:6000]}")


def test_sample_edition_and_message_match_golden(sample: Path, request: pytest.FixtureRequest,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SECRET", "golden-secret")
    update = request.config.getoption("--update-golden")
    config = config_mod.load(sample)
    result = app.build(config, date=NOW.date(), now=NOW)
    html, text = result.day.web_version("all")
    check("all.txt", text, update)
    check("all.html", html, update)
    ana = result.day.message(result.day.reader("ana@example.org"))
    assert ana is not None
    check("ana.eml", ana.raw.decode("ascii"), update)
