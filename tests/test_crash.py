"""A run killed mid-collect leaves a consistent store; two runs at once do not share it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from digest.store import Store

from .feedserver import FeedServer, rss
from .test_collect_http import write_config

DIGEST = [sys.executable, "-c", "from digest.cli import main; main()"]


def saved_feeds(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as c:
            return c.execute("SELECT count(*) FROM feeds").fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # not created yet


def test_sigkill_mid_collect_then_run_again(tmp_path: Path) -> None:
    server = FeedServer().start()
    try:
        for i in range(12):
            server.static(f"/slow{i}.xml", rss(f"Slow {i}", 2), delay=0.5)
        path = write_config(tmp_path, {f"slow{i}": server.url(f"/slow{i}.xml") for i in range(12)})
        db = tmp_path / "digest.sqlite"
        run = subprocess.Popen([*DIGEST, "--config", str(path), "collect"], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while saved_feeds(db) < 3 and time.monotonic() < deadline and run.poll() is None:
            time.sleep(0.05)
        run.send_signal(signal.SIGKILL)
        run.wait()
        assert run.returncode == -signal.SIGKILL
        assert 3 <= saved_feeds(db) < 12, "the kill should land mid-collect"

        again = subprocess.run([*DIGEST, "--config", str(path), "collect"], capture_output=True,
                               text=True, timeout=60)
        assert again.returncode == 0, again.stderr
        assert again.stderr.strip().endswith("12 feeds ok, 0 failed, " +
                                             again.stderr.strip().rsplit(", ", 1)[1])
        with sqlite3.connect(db) as c:
            assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert c.execute("SELECT count(*) FROM feeds WHERE status IN ('ok', 'not-modified')"
                             ).fetchone()[0] == 12
            assert c.execute("SELECT count(*) FROM articles").fetchone()[0] == 24
    finally:
        server.stop()


def test_second_run_waits_then_exits_1(sample: Path) -> None:
    db = sample.parent / "digest.sqlite"
    with Store.open(db):
        started = time.monotonic()
        run = subprocess.run([*DIGEST, "--config", str(sample), "collect"], capture_output=True,
                             text=True, timeout=60)
        waited = time.monotonic() - started
    assert run.returncode == 1
    assert run.stderr.strip() == (f"Error: the store {db} is in use by digest pid {os.getpid()}; "
                                  "waited 5 s. Try again when it has finished.")
    assert 5 <= waited < 15
