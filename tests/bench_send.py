"""How many messages a second `digest send` reaches against aiosmtpd on loopback.

Not a test (pytest does not collect bench_*): run it by hand,

    python tests/bench_send.py [READERS] [RATE]

It builds the sample edition for READERS readers (default 500) in a
temporary folder, starts aiosmtpd on 127.0.0.1 in its own process (a
discarding Sink, so it does not share our GIL), and times `app.send` (the
whole of `digest send` but the CLI: assembling each reader's message,
SMTP over one connection, one store commit per message) with `[smtp] rate`
set to RATE (default 100000, i.e. no limit).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from click.testing import CliRunner  # noqa: E402
from test_send import REPO_SAMPLES, _built_date, _configure, _free_port  # noqa: E402

from digest import app  # noqa: E402
from digest import config as config_mod  # noqa: E402
from digest.cli import main  # noqa: E402


def run(readers: int, rate: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shutil.copy(REPO_SAMPLES.parent.parent / "config.example.toml", folder / "digest.toml")
        shutil.copytree(REPO_SAMPLES, folder / "digest" / "samples")
        port = _free_port()
        server = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l",
                                   f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"])
        try:
            cfg = _configure(folder / "digest.toml", f"smtp://127.0.0.1:{port}",
                             extra=readers - 3, rate=rate)
            assert CliRunner().invoke(main, ["--config", str(cfg), "build"]).exit_code == 0
            one = CliRunner().invoke(main, ["--config", str(cfg), "build", "--stdout", "--to",
                                            "ana@example.org"]).stdout_bytes
            config = config_mod.load(cfg)
            start = time.perf_counter()
            result = app.send(config, date=_built_date(cfg))
            elapsed = time.perf_counter() - start
        finally:
            server.terminate()
            server.wait()
    sent = result.count("sent")
    print(f"{sent} messages (~{len(one) / 1024:.0f} KB each) in {elapsed:.2f} s:"
          f" {sent / elapsed:.0f} messages/s (rate limit {rate}/s)")


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 500,
        int(sys.argv[2]) if len(sys.argv) > 2 else 100_000)
