"""A bare SMTP client: pre-built messages over one connection, as fast as the sink takes them.

    python bench/bare_smtp.py MESSAGES.pickle --port N --count 10000

Cycles through the pre-built messages until `count` are sent; prints one JSON
line with the count and the seconds spent sending (connection included).
"""

from __future__ import annotations

import argparse
import json
import pickle
import smtplib
import sys
import time
from pathlib import Path


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("messages", type=Path)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, required=True)
    args = p.parse_args()
    built: list[tuple[str, bytes]] = pickle.loads(args.messages.read_bytes())
    if not built:
        json.dump({"sent": 0, "seconds": 0.0}, sys.stdout)
        return 0
    t0 = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", args.port) as smtp:
        for i in range(args.count):
            to, data = built[i % len(built)]
            smtp.sendmail("news@example.org", [to], data)
    seconds = time.perf_counter() - t0
    json.dump({"sent": args.count, "seconds": seconds}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
