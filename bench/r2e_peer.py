"""rss2email 3.14, the peer: installed in a venv of its own, configured by writing its files.

rss2email keeps its settings in an INI file (`[DEFAULT]` then one `[feed.NAME]`
section per feed) and what it has seen in a JSON data file. A data file that
does not exist yet is created empty, and a fresh feed sends every entry (only
`r2e add --only-new` would seed it), so each timed run starts from a new data
file. `r2e run --no-send` still records entries as seen, so the delivering run
needs a fresh data file too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

VERSION = "3.14"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "digest-bench"


def ensure_venv(cache: Path = CACHE) -> Path:
    """The r2e executable of a venv with rss2email==3.14, made once and kept in the cache."""
    venv = cache / f"r2e-venv-{VERSION}"
    r2e = venv / "bin" / "r2e"
    if r2e.exists():
        return r2e
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", f"rss2email=={VERSION}"],
        capture_output=True,
        text=True,
    )
    if pip.returncode:
        sys.stderr.write(pip.stdout + pip.stderr)
        pip.check_returncode()
    out = subprocess.run([str(r2e), "--version"], capture_output=True, text=True, check=True)
    if VERSION not in out.stdout + out.stderr:
        sys.exit(f"expected rss2email {VERSION}, got {out.stdout.strip()}")
    return r2e


def write_config(folder: Path, feed_urls: dict[str, str], smtp_port: int) -> Path:
    """rss2email's config: every feed to one reader, sent by SMTP to the loopback sink."""
    lines = [
        "[DEFAULT]",
        "from = bench@example.org",
        "to = reader@example.org",
        "email-protocol = smtp",
        f"smtp-server = 127.0.0.1:{smtp_port}",
        "verbose = warning",
        "",
    ]
    for name, url in feed_urls.items():
        lines += [f"[feed.{name}]", f"url = {url}", ""]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "rss2email.cfg"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def command(r2e: Path, config: Path, data: Path, *run_args: str) -> list[str]:
    """`r2e -c CONFIG -d DATA run ...`; DATA need not exist (rss2email creates it empty)."""
    return [str(r2e), "-c", str(config), "-d", str(data), "run", *run_args]
