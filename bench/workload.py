"""Generate the benchmark's workload: feeds, topics, subscribers and a digest config.

Deterministic for a seed, apart from the dates, which are offsets back from
`now` so the day's window (window_hours = 24) admits every item.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

# Twenty topics in the model newsletter's field, each with the words that admit
# a story into it. Articles are about one topic (sometimes two), chosen with
# Zipf-like weights, so the biggest topic claims several times the smallest.
TOPICS: list[tuple[str, str, list[str]]] = [
    ("superpowers", "Superpowers", ["Kremlin", "NATO", "summit", "Beijing"]),
    ("missile-defense", "Missile Defense", ["interceptor", "missile defense", "air defence"]),
    ("military-space", "Military Space", ["Space Force", "counterspace", "space domain"]),
    ("nuclear-weapons", "Nuclear Weapons", ["warhead", "arms control", "nonproliferation"]),
    ("cyber-wars", "Cyber Wars", ["cyberattack", "ransomware", "malware"]),
    ("drone-warfare", "Drone Warfare", ["drone", "loitering munition", "UAV"]),
    ("naval-power", "Naval Power", ["destroyer", "submarine", "aircraft carrier"]),
    ("air-power", "Air Power", ["fighter jet", "stealth bomber", "air force"]),
    ("space-exploration", "Space Exploration", ["astronaut", "space station", "spacewalk"]),
    ("launch-industry", "Launch Industry", ["rocket", "launch pad", "booster"]),
    (
        "satellite-internet",
        "Satellite Internet",
        ["broadband constellation", "Starlink", "ground terminal"],
    ),
    (
        "earth-observation",
        "Earth Observation",
        ["imaging satellite", "radar imagery", "remote sensing"],
    ),
    ("climate-science", "Climate Science", ["sea ice", "heatwave", "carbon dioxide"]),
    ("energy-tech", "Energy Tech", ["fusion reactor", "solar farm", "battery storage"]),
    ("robotics", "Robotics", ["robot", "autonomous vehicle", "exoskeleton"]),
    (
        "artificial-intelligence",
        "Artificial Intelligence",
        ["machine learning", "neural network", "AI model"],
    ),
    ("mars", "Mars", ["Mars rover", "Martian", "Jezero"]),
    ("moon", "Moon", ["lunar lander", "Artemis", "lunar south pole"]),
    ("telescopes", "Telescopes", ["telescope", "exoplanet", "observatory"]),
    ("arms-trade", "Arms Trade", ["arms sale", "defense contract", "procurement"]),
]

# Neutral words that no topic's keywords match.
_FILLER_TEXT = """\
officials said the programme would continue through next year while engineers reviewed
data from recent tests and analysts expected further announcements after budget talks
with partners across several regions the agency confirmed a schedule change citing
weather supply chains and staffing a spokesperson declined to comment on details but
noted strong progress according to documents seen by reporters the team plans another
review in coming weeks industry sources described the move as significant while critics
questioned costs and timelines local authorities welcomed investment and new jobs
experts cautioned that results remain preliminary observers pointed to growing
competition and shifting priorities the ministry published a report outlining goals for
the decade ahead researchers presented findings at a conference where delegates
discussed cooperation standards and funding
"""
FILLER = _FILLER_TEXT.split()

PLACES = [
    "WASHINGTON",
    "Paris",
    "MOSCOW",
    "Beijing",
    "London",
    "Tokyo",
    "Kennedy Space Center FL",
    "Houston TX",
    "Brussels",
    "New Delhi",
    "Seoul",
    "Canberra",
    "Berlin",
    "Toulouse",
    "Kyiv",
]
AGENCIES = ["AFP", "SPX", "UPI", "Reuters", "AP", "Staff Writers"]

TOPIC_COUNT_MAX = len(TOPICS)


@dataclass(frozen=True, slots=True)
class Sizes:
    feeds: int = 500
    items: int = 50
    topics: int = 20
    subscribers: int = 10_000
    seed: int = 6


@dataclass(frozen=True, slots=True)
class Workload:
    folder: Path
    feed_files: tuple[Path, ...]
    topics: tuple[tuple[str, str, tuple[str, ...]], ...]
    subscribers_csv: Path
    items: int
    feed_bytes: int


def generate(folder: Path, sizes: Sizes, now: dt.datetime) -> Workload:
    """Write feeds/NNNN.xml and subscribers.csv into `folder`."""
    if not 1 <= sizes.topics <= TOPIC_COUNT_MAX:
        raise ValueError(f"--topics must be between 1 and {TOPIC_COUNT_MAX}")
    rng = random.Random(sizes.seed)
    topics = [(tid, title, tuple(words)) for tid, title, words in TOPICS[: sizes.topics]]
    weights = [1 / (i + 1) ** 0.8 for i in range(len(topics))]
    feeds_dir = folder / "feeds"
    feeds_dir.mkdir(parents=True, exist_ok=True)
    files, total = [], 0
    for n in range(sizes.feeds):
        body = _feed(rng, n, sizes.items, topics, weights, now)
        path = feeds_dir / f"f{n:04d}.xml"
        path.write_bytes(body)
        files.append(path)
        total += len(body)
    csv_path = folder / "subscribers.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["email", "name", "topics"])
        ids = [t[0] for t in topics]
        for i in range(sizes.subscribers):
            k = min(len(ids), rng.randint(3, 5))
            w.writerow([f"reader{i:05d}@example.org", f"Reader {i}", ";".join(rng.sample(ids, k))])
    return Workload(folder, tuple(files), tuple(topics), csv_path, sizes.items, total)


# Headline words: real headlines draw on a large vocabulary with a few very
# common words (Zipf's law), so two unrelated headlines rarely share more than
# a word or two. Body filler can repeat; headline words must not come from the
# same 124 words, or every headline would look like a near-duplicate of
# hundreds of others (a load no real day brings to the duplicate matcher).
_SYLLABLES = ["ka", "ro", "mi", "ten", "sa", "vol", "dor", "lin", "pre", "mar", "tis", "gal", "ver",
              "nor", "bel", "cha", "dun", "fe", "lo", "qui", "bra", "sto", "ple", "vin", "gor", "tal",
              "mek", "sur"]
HEADLINE_WORDS = [a + b + c for a in _SYLLABLES for b in _SYLLABLES for c in ("", "n", "s", "ra")]
HEADLINE_WEIGHTS = [1 / (rank + 1) for rank in range(len(HEADLINE_WORDS))]


def _headline(rng: random.Random, keyword: str, n: int) -> str:
    words = rng.choices(HEADLINE_WORDS, HEADLINE_WEIGHTS, k=n)
    if rng.random() < 0.5:
        words.insert(rng.randrange(len(words) + 1), rng.choice(PLACES).title())
    return f"{keyword[0].upper()}{keyword[1:]} {' '.join(words)}"


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(FILLER) for _ in range(n))


def _sentence(
    rng: random.Random, keyword: str | None = None, words: tuple[int, int] = (12, 22)
) -> str:
    words = _words(rng, rng.randint(*words)).split()
    if keyword:
        words.insert(rng.randrange(len(words)), keyword)
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def _dateline(rng: random.Random, when: dt.datetime) -> str:
    place = rng.choice(PLACES)
    agency = rng.choice(AGENCIES)
    style = rng.randrange(3)
    if style == 0:
        return f"<p>{escape(place)} ({agency}) {when:%b} {when.day:02d}, {when:%Y}</p>"
    if style == 1:
        return f"<p>by {agency} {escape(place)} ({agency}) {when:%b} {when.day}, {when:%Y}</p>"
    return ""  # no dateline paragraph: some feeds put it inline or not at all


def _feed(rng: random.Random, n: int, items: int, topics, weights, now: dt.datetime) -> bytes:
    target = rng.randint(30_000, 74_000)  # bytes for the whole feed (it lands at 35-80 KB)
    per_item = target / items
    host = f"news{n % 40}.example.com"
    with_description = rng.random() < 0.5  # many feeds send content:encoded only
    out = []
    for i in range(items):
        primary = rng.choices(range(len(topics)), weights)[0]
        chosen = [primary]
        if rng.random() < 0.3:
            chosen.append(rng.choices(range(len(topics)), weights)[0])
        keywords = [rng.choice(topics[t][2]) for t in chosen]
        # Offsets spread over the last 23 h, so a build minutes later still has them all.
        when = now - dt.timedelta(seconds=rng.randint(60, 23 * 3600))
        title = f"{_headline(rng, keywords[0], rng.randint(4, 9))} ({n}-{i})"
        link = f"https://{host}/{when:%Y/%m}/story-{n}-{i}.html"
        description = _sentence(rng, keywords[-1]) if with_description else ""
        paragraphs = [_dateline(rng, when)]
        size = len(title) + len(description) + 2 * len(link) + 260
        while size < per_item - 60 or len(paragraphs) < 3:  # the dateline and two more
            kw = rng.choice(keywords) if rng.random() < 0.4 else None
            p = " ".join(_sentence(rng, kw, (6, 14)) for _ in range(rng.randint(1, 2)))
            paragraphs.append(f"<p>{p}</p>")
            size += len(p) + 7
        if rng.random() < 0.3:
            paragraphs.insert(
                1,
                f'<p><img src="https://{host}/img/{n}-{i}.jpg" width="640" '
                f'height="360" alt="{escape(_words(rng, 4))}"></p>',
            )
        if rng.random() < 0.5:
            paragraphs.append(
                f'<p>The post <a href="{link}">{escape(title)}</a> appeared first on News {n}.</p>'
            )
        cats = "".join(f"<category>{escape(topics[t][1])}</category>" for t in chosen)
        out.append(
            f"<item><title>{escape(title)}</title><link>{link}</link>"
            f'<guid isPermaLink="false">{hashlib.sha1(link.encode()).hexdigest()[:16]}</guid>'
            f"<pubDate>{format_datetime(when)}</pubDate>"
            f"<dc:creator>{escape(rng.choice(AGENCIES))}</dc:creator>{cats}"
            + (f"<description>{escape(description)}</description>" if description else "")
            + f"<content:encoded><![CDATA[{''.join(paragraphs)}]]></content:encoded></item>\n"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>'
        f"<title>News {n}</title><link>https://{host}/</link>"
        f"<description>Feed {n} of the digest benchmark</description>"
        f"<lastBuildDate>{format_datetime(now)}</lastBuildDate>\n"
        + "".join(out)
        + "</channel></rss>\n"
    ).encode()


def write_config(workload: Workload, feed_url: Callable[[int, str], str], smtp_port: int) -> Path:
    """digest.toml for the workload: feed i at `feed_url(i, "fNNNN.xml")`, SMTP on loopback."""
    lines = [
        "[digest]",
        'name = "Bench Daily"',
        'from = "Bench Daily <news@example.org>"',
        'site_url = "https://example.org/bench"',
        'unsubscribe = "https://example.org/unsubscribe?e={email}&t={token}"',
        'timezone = "UTC"',
        "window_hours = 24",
        'outbox = "outbox"',
        'state = "digest.sqlite"',
        f'subscribers_file = "{workload.subscribers_csv.name}"',
        "",
        "[smtp]",
        f'url = "smtp://127.0.0.1:{smtp_port}"',
        "rate = 1000000",  # no throttle: the benchmark measures how fast digest can go
        "",
    ]
    for i, path in enumerate(workload.feed_files):
        lines += ["[[feeds]]", f'id = "{path.stem}"', f'url = "{feed_url(i, path.name)}"', ""]
    for tid, title, words in workload.topics:
        kw = ", ".join(f'"{w}"' for w in words)
        lines += ["[[topics]]", f'id = "{tid}"', f'title = "{title}"', f"keywords = [{kw}]", ""]
    config = workload.folder / "digest.toml"
    config.write_text("\n".join(lines), encoding="utf-8")
    return config
