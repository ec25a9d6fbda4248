"""Time a cold and a warm collect of the shared corpus served over loopback HTTP.

    python bench/time_collect.py [../shared/corpus/feeds] [--hosts N] [--parse-workers N]

Cold: an empty store, every feed fetched and parsed. Warm: the same store
again, every feed answered 304 (no parse).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digest import app  # noqa: E402
from digest import config as config_mod  # noqa: E402
from digest.collect import Limits  # noqa: E402
from tests.feedserver import FeedServer  # noqa: E402
from tests.test_collect_http import write_config  # noqa: E402


def main() -> None:
    here = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="?", type=Path, default=here.parent / "shared" / "corpus" / "feeds")
    ap.add_argument("--hosts", type=int, default=4, help="loopback addresses to spread feeds over")
    ap.add_argument("--parse-workers", type=int, default=None)
    args = ap.parse_args()
    servers = [FeedServer(f"127.0.0.{i + 1}").start() for i in range(args.hosts)]
    feeds = {}
    for i, p in enumerate(sorted(args.corpus.iterdir())):
        s = servers[i % len(servers)]
        s.static(f"/{p.name}", p.read_bytes(),
                 "application/feed+json" if p.suffix == ".json" else "application/xml",
                 etag=f'"{p.stat().st_size}"')
        feeds[f"f{i:03d}"] = s.url(f"/{p.name}")
    limits = Limits(parse_workers=args.parse_workers)
    with tempfile.TemporaryDirectory() as tmp:
        config = config_mod.load(write_config(Path(tmp), feeds))
        for label in ("cold", "warm"):
            started = time.perf_counter()
            result = app.collect(config, limits=limits)
            spent = time.perf_counter() - started
            statuses: dict[str, int] = {}
            for f in result.feeds:
                statuses[f.status] = statuses.get(f.status, 0) + 1
            print(f"{label}: {len(feeds)} feeds in {spent:.2f} s, "
                  f"{result.new_articles} new articles, {statuses}")
    for s in servers:
        s.stop()


if __name__ == "__main__":
    main()
