"""Score the sample messages with SpamAssassin (local rules only, no network tests).

    python tests/spamcheck.py [--threshold 2.0] [EML ...]

With no files, builds the bundled sample in a temporary folder and scores
every reader's message. Exits 1 when a message scores at or above the
threshold, 2 when spamassassin is not installed (Debian: `spamassassin`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
THRESHOLD = 2.0


def spamassassin() -> str | None:
    return shutil.which("spamassassin")


def score(raw: bytes) -> tuple[float, str]:
    """SpamAssassin's score for one message and its report (`-L`: no DNS or network rules)."""
    out = subprocess.run([spamassassin(), "-L", "-t"], input=raw, capture_output=True,
                         timeout=300, check=False).stdout.decode("utf-8", "replace")
    m = re.search(r"^X-Spam-Status: \w+, score=(-?[\d.]+)", out, re.MULTILINE)
    if m is None:
        raise RuntimeError(f"no X-Spam-Status in spamassassin's output:\n{out[:2000]}")
    report = out[out.find("Content analysis details"):] if "Content analysis details" in out else ""
    return float(m.group(1)), report.strip()


def sample_messages() -> dict[str, bytes]:
    """Every reader's message from the bundled sample, built in a temporary folder."""
    sys.path.insert(0, str(REPO))
    from digest import app
    from digest import config as config_mod

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        shutil.copy(REPO / "config.example.toml", base / "digest.toml")
        shutil.copytree(REPO / "digest" / "samples", base / "digest" / "samples")
        cfg = config_mod.load(base / "digest.toml")
        day = app.build(cfg, now=dt.datetime.now(dt.UTC)).day
        return {reader.email: msg.raw for reader, msg in day.messages()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    args = parser.parse_args(argv)
    if spamassassin() is None:
        print("spamassassin is not installed (apt-get install spamassassin)", file=sys.stderr)
        return 2
    messages = ({str(f): f.read_bytes() for f in args.files} if args.files else sample_messages())
    worst = 0.0
    for name, raw in messages.items():
        points, report = score(raw)
        worst = max(worst, points)
        print(f"{name}: {points:.1f}\n{report}\n")
    print(f"highest score {worst:.1f} (threshold {args.threshold})")
    return 0 if worst < args.threshold else 1


if __name__ == "__main__":
    sys.exit(main())
