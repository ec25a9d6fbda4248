"""Print how digest.dedup.same_story fares on the labelled pairs, and how fast grouping is.

python tests/dedup_report.py            # precision, recall, confusion counts, misses
python tests/dedup_report.py --timing   # also time group_duplicates on 5,000 and 25,000 items
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from digest.dedup import group_duplicates, same_story  # noqa: E402

PAIRS = Path(__file__).parent / "data" / "dedup" / "pairs.json"


def load_pairs() -> list[dict]:
    """Return the labelled pairs."""
    return json.loads(PAIRS.read_text(encoding="utf-8"))["pairs"]


def confusion(pairs: list[dict]) -> dict[str, list[dict]]:
    """Sort pairs into tp/fp/fn/tn by same_story's verdict against the label."""
    out: dict[str, list[dict]] = {"tp": [], "fp": [], "fn": [], "tn": []}
    for pair in pairs:
        said = same_story(
            (pair["a"]["title"], pair["a"]["lead"]), (pair["b"]["title"], pair["b"]["lead"])
        )
        key = ("t" if said == (pair["label"] == "same") else "f") + ("p" if said else "n")
        out[key].append(pair)
    return out


def precision_recall(counts: dict[str, list[dict]]) -> tuple[float, float]:
    """Return (precision, recall); precision is 1.0 when nothing was called the same."""
    tp, fp, fn = len(counts["tp"]), len(counts["fp"]), len(counts["fn"])
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)


def synthetic_items(n: int, seed: int = 1) -> list[tuple[str, str]]:
    """Make n (title, lead) items over a Zipf-like vocabulary, one in ten a reworded repeat."""
    rng = random.Random(seed)
    vocab = [f"w{k}" for k in range(40_000)]
    weights = [1 / (k + 1) for k in range(len(vocab))]
    items: list[tuple[str, str]] = []
    for _ in range(n):
        if items and rng.random() < 0.1:
            title, lead = rng.choice(items)
            words = title.split()
            rng.shuffle(words)
            items.append((" ".join(words[:-1] + ["again"]), lead))
            continue
        title = " ".join(rng.choices(vocab, weights, k=8))
        lead = " ".join(rng.choices(vocab, weights, k=30))
        items.append((title, lead))
    return items


def main(argv: list[str]) -> int:
    pairs = load_pairs()
    for split in ("tune", "holdout", None):
        chosen = [p for p in pairs if split is None or p["split"] == split]
        counts = confusion(chosen)
        precision, recall = precision_recall(counts)
        sizes = " ".join(f"{k}={len(v)}" for k, v in counts.items())
        name = split or "all"
        print(f"{name:8} n={len(chosen):3} precision={precision:.3f} recall={recall:.3f} {sizes}")
    counts = confusion(pairs)
    for key, what in (("fp", "merged but different"), ("fn", "missed, same story")):
        print(f"\n{what} ({len(counts[key])}):")
        for p in counts[key]:
            print(f"  #{p['id']:<3} {p['kind']:<16} {p['a']['title']!r} / {p['b']['title']!r}")
    if "--timing" in argv:
        print()
        for n in (5_000, 25_000):
            items = synthetic_items(n)
            start = time.perf_counter()
            groups = group_duplicates(items)
            took = time.perf_counter() - start
            print(f"group_duplicates: {n:6} items -> {len(groups)} groups in {took:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
