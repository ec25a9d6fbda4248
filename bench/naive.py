"""The naive way to build a day's email: every reader's edition rendered and encoded from scratch.

Run as a script by bench/run.py after `digest build`, in digest's environment:

    python bench/naive.py CONFIG --sample 200 --messages OUT.pickle

Prints one JSON line of timings. Also writes the messages it built to OUT, for
the bare SMTP client to send.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import pickle
import sys
import time
from pathlib import Path


def naive_messages(config_path: Path, sample: int) -> dict:
    """Plan the day, then for `sample` readers render and encode their email with no caching.

    This is the only place that uses digest's Python API (everything else goes
    through the command line): keep it small so it is easy to follow API changes.
    """
    from digest import app, message, selection
    from digest import config as config_mod
    from digest.render import Renderer
    from digest.store import Store

    t0 = time.perf_counter()
    config = config_mod.load(config_path)
    now = dt.datetime.now(dt.UTC)
    with Store.open(config.state, lock=False) as store:
        day, _ = app.load_day(config, store, app.today(config, now), now)
    all_topics = [t.id for t in config.topics]
    readers = [
        s
        for s in config.subscribers
        if selection.edition_key(s.topics, all_topics) in day.plan.editions
    ]
    t1 = time.perf_counter()
    step = max(1, len(readers) // sample) if sample else 1
    chosen = readers[::step][:sample] if sample else readers
    renderer = Renderer(config)  # templates compiled once: the naive way still gets that much
    built, html_bytes = [], 0
    for reader in chosen:
        key = selection.edition_key(reader.topics, all_topics)
        rendered = renderer.render(day.plan.editions[key])
        msg = message.build(rendered, config, day.secret, reader, day.date, day.built_at)
        built.append((reader.email, msg.raw))
        html_bytes += len(rendered.html.encode())
    t2 = time.perf_counter()
    return {
        "load_seconds": t1 - t0,
        "recipients": len(readers),
        "editions": len(day.plan.editions),
        "sampled": len(chosen),
        "sample_seconds": t2 - t1,
        "per_recipient": (t2 - t1) / len(chosen) if chosen else 0.0,
        "html_bytes_avg": html_bytes / len(chosen) if chosen else 0,
        "message_bytes_avg": sum(len(b) for _, b in built) / len(built) if built else 0,
        "messages": built,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("config", type=Path)
    p.add_argument("--sample", type=int, default=200, help="readers to time (0 = all)")
    p.add_argument("--messages", type=Path, help="write the built messages here (pickle)")
    args = p.parse_args()
    result = naive_messages(args.config, args.sample)
    built = result.pop("messages")
    if args.messages:
        args.messages.write_bytes(pickle.dumps(built))
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
