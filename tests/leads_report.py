"""Measure lead selection against the labelled set in tests/data/leads/.

Run `python tests/leads_report.py` from anywhere. Corpus items are labelled by
file name and entry index with a fingerprint of the expected first sentence
and dateline (the corpus text is not ours to copy); handmade items carry their
text. Print `python tests/leads_report.py --fingerprint "A sentence."` to
label a new corpus item.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
for p in (str(REPO), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

from digest.models import Article, Media  # noqa: E402
from digest.summarise import count_words, summarise  # noqa: E402

LABELS = HERE / "data" / "leads"
CORPUS = REPO.parent / "shared" / "corpus"
BUDGET = 60
PREFIX_CHARS = 40

# Anything here in a lead is a not-a-lead pattern that leaked through.
BOILERPLATE = re.compile(
    r"read more|continue reading|\[(?:…|\.\.\.)\]|\(more…?\)|appeared first on|^by\s"
    r"|\bsubscribe\b|\bshare (?:this|on)\b|\badvertisement\b|^(?:photo|image|credit)\s*:"
    r"|\bphoto:|\bcredit:|<[a-z/!]|&[a-z]+;|&#\d+;|javascript:|^\s*(?:update|updated)\s*:"
    r"|\((?:AP|AFP|Reuters|SPX|UPI)\)",
    re.I,
)


def normalise(text: str) -> str:
    """Casefold, straighten quotes, collapse whitespace, drop the closing punctuation."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.translate(str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'}))
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"[\s.!?…:;。！？۔]+$", "", text)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fingerprint(sentence: str) -> dict:
    n = normalise(sentence)
    return {
        "sha256": _sha(n),
        "chars": len(n),
        "words": count_words(sentence),
        "prefix_sha256": _sha(n[:PREFIX_CHARS]),
    }


def dateline_fingerprint(dateline: str) -> dict | None:
    if not dateline:
        return None
    return {"sha256": _sha(normalise(dateline)), "words": count_words(dateline)}


@dataclass(frozen=True)
class Case:
    id: str
    article: Article
    lead: dict
    dateline: dict | None
    source_text: str  # what the feed said, shown beside a failure


@dataclass(frozen=True)
class Result:
    case: Case
    text: str
    dateline: str
    lead_ok: bool
    dateline_ok: bool
    budget_ok: bool
    boilerplate: bool


def _source_text(article: Article) -> str:
    import lxml.html

    out = []
    for markup in (article.content_html, article.summary_html):
        if markup.strip():
            try:
                out.append(lxml.html.fragment_fromstring(markup, create_parent="div").text_content())
            except Exception:  # shown to a human only
                out.append(markup)
    return re.sub(r"\s+", " ", " || ".join(out))[:500]


def load_cases(include_corpus: bool = True) -> list[Case]:
    cases: list[Case] = []
    for item in json.loads((LABELS / "handmade.json").read_text(encoding="utf-8")):
        art = Article(
            id=item["id"],
            feed_id="handmade",
            title=item.get("title", ""),
            url=item.get("url", "https://example.org/story"),
            published=None,
            seen=__import__("datetime").datetime(2025, 7, 3, tzinfo=__import__("datetime").UTC),
            content_html=item.get("content_html", ""),
            summary_html=item.get("summary_html", ""),
            media=tuple(Media(**m) for m in item.get("media", ())),
        )
        cases.append(
            Case(
                item["id"],
                art,
                fingerprint(item["first_sentence"]),
                dateline_fingerprint(item.get("dateline", "")),
                _source_text(art),
            )
        )
    if include_corpus and CORPUS.is_dir():
        from feed_articles import load

        labels = json.loads((LABELS / "labels.json").read_text(encoding="utf-8"))
        for item in labels["corpus"]:
            art = load(item["file"])[item["entry"]]
            cases.append(
                Case(
                    f"{item['file']}#{item['entry']}",
                    art,
                    item["first_sentence"],
                    item["dateline"],
                    _source_text(art),
                )
            )
    return cases


def check(case: Case, budget: int = BUDGET) -> Result:
    lead = summarise(case.article, budget)
    out = normalise(lead.text)
    want = case.lead
    if len(out) >= want["chars"]:
        lead_ok = _sha(out[: want["chars"]]) == want["sha256"]
    else:  # cut short with an ellipsis: the start must still be the expected sentence's
        lead_ok = lead.text.endswith("…") and len(out) >= min(PREFIX_CHARS, want["chars"])
        lead_ok = lead_ok and _sha(out[:PREFIX_CHARS]) == want["prefix_sha256"]
    if case.dateline is None:
        dateline_ok = lead.dateline == ""
    else:
        dateline_ok = _sha(normalise(lead.dateline)) == case.dateline["sha256"]
    return Result(
        case=case,
        text=lead.text,
        dateline=lead.dateline,
        lead_ok=lead_ok,
        dateline_ok=dateline_ok,
        budget_ok=count_words(lead.text) <= budget,
        boilerplate=bool(BOILERPLATE.search(lead.text)),
    )


def evaluate(budget: int = BUDGET) -> list[Result]:
    return [check(c, budget) for c in load_cases()]


def _pct(results: list[Result], attr: str) -> str:
    ok = sum(getattr(r, attr) for r in results)
    return f"{ok}/{len(results)} ({100 * ok / max(len(results), 1):.1f}%)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=int, default=BUDGET)
    ap.add_argument("--fingerprint", metavar="SENTENCE")
    ap.add_argument("--dateline", default="")
    args = ap.parse_args()
    if args.fingerprint is not None:
        print(json.dumps({"first_sentence": fingerprint(args.fingerprint),
                          "dateline": dateline_fingerprint(args.dateline)}))
        return 0
    if not CORPUS.is_dir():
        print(f"corpus not found at {CORPUS}: handmade items only", file=sys.stderr)
    results = evaluate(args.budget)
    print(f"items:       {len(results)}")
    print(f"lead starts: {_pct(results, 'lead_ok')}")
    print(f"dateline:    {_pct(results, 'dateline_ok')}")
    print(f"in budget:   {_pct(results, 'budget_ok')}")
    clean = [Result(**{**r.__dict__, 'boilerplate': not r.boilerplate}) for r in results]
    print(f"no boilerplate: {_pct(clean, 'boilerplate')}")
    for r in results:
        problems = [
            name
            for name, ok in (("lead", r.lead_ok), ("dateline", r.dateline_ok),
                             ("budget", r.budget_ok), ("boilerplate", not r.boilerplate))
            if not ok
        ]
        if problems:
            print(f"\n--- FAIL {r.case.id}: {', '.join(problems)}")
            print(f"  feed:     {r.case.source_text}")
            print(f"  dateline: {r.dateline!r}")
            print(f"  picked:   {r.text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
