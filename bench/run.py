"""Benchmark digest end to end on 127.0.0.1 and write bench/RESULTS.md (issue 6).

    python bench/run.py             # the default: 500 feeds x 50 items, 10,000 readers
    python bench/run.py --quick     # a tiny run (seconds), no rss2email; what the tests run
    python bench/run.py --feeds 100 --subscribers 2000 --no-rss2email

Run it with the Python that has digest installed (`pip install -e .`). Every
digest step runs as a subprocess through digest's command line, so the harness
keeps working while digest's internals change.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime as dt
import json
import multiprocessing
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import r2e_peer  # noqa: E402 - bench/ is not a package
import workload  # noqa: E402
from servers import FeedServer, SmtpSink  # noqa: E402

# Targets from issue 6.
COLLECT_VS_LIMIT = 1.3
FASTER_THAN_R2E_NOSEND = 4.0
FASTER_THAN_R2E_SEND = 13.0
WARM_COLLECT_SECONDS = 1.0
BUILD_VS_NAIVE = 20.0
SEND_VS_BARE = 0.8
PEAK_MB = 500.0

# Every row of the results table, in order; tests/test_bench.py checks each is there.
ROWS = (
    "cold collect vs parse-bound limit",
    "cold collect vs rss2email --no-send",
    "cold collect vs rss2email delivering",
    "warm collect",
    "build every subscriber's email vs naive",
    "send vs bare SMTP client",
    "peak memory",
)


@dataclass
class Step:
    """One timed subprocess: wall time, exit status, peak RSS of it and its children."""

    name: str
    seconds: float = 0.0
    returncode: int = 0
    peak_mb: float | None = None
    stdout: str = ""
    stderr: str = ""
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def failure(self) -> str:
        last = (self.stderr.strip().splitlines() or ["no output"])[-1]
        return f"failed (exit {self.returncode}: {last[:120]})"


@dataclass
class Run:
    args: argparse.Namespace
    work: Path
    steps: dict[str, Step] = field(default_factory=dict)
    facts: dict[str, object] = field(default_factory=dict)
    failed: bool = False

    def run(
        self,
        name: str,
        cmd: list[str],
        *,
        profile_as: str | None = None,
        env: dict[str, str] | None = None,
        discard_stdout: bool = False,
    ) -> Step:
        """Run `cmd`, timing it; its peak RSS comes from wait4, which covers its children too."""
        if profile_as and self.args.profile:
            cmd = _profiled(cmd, self.work / "profiles" / profile_as)
        logs = self.work / "logs"
        logs.mkdir(exist_ok=True)
        out_path, err_path = logs / f"{name}.out", logs / f"{name}.err"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                cmd,
                stdout=subprocess.DEVNULL if discard_stdout else out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env=env or _env(),
                cwd=self.work,
                start_new_session=True,
            )
            timer = threading.Timer(self.args.step_timeout, _kill_group, (proc.pid,))
            timer.start()
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - t0
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        step = Step(
            name,
            seconds,
            proc.returncode,
            usage.ru_maxrss / 1024,
            out_path.read_text(errors="replace"),
            err_path.read_text(errors="replace"),
        )
        if seconds >= self.args.step_timeout:
            step.stderr += f"\ntimed out after {self.args.step_timeout:g} s (--step-timeout)"
        if not step.ok:
            self.failed = True
            print(f"  {name}: {step.failure()}", file=sys.stderr)
        else:
            print(f"  {name}: {seconds:.2f} s, peak {step.peak_mb:.0f} MB", file=sys.stderr)
        self.steps[name] = step
        return step


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)  # the step's own session: it and whatever it started


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    env["DIGEST_SECRET"] = "bench"  # fixed, so nothing depends on the store's random secret
    return env


def _profiled(cmd: list[str], out: Path) -> list[str]:
    """`cmd` (a Python command) under pyinstrument, else py-spy, else as it is."""
    out.parent.mkdir(parents=True, exist_ok=True)
    python, *rest = cmd
    probe = subprocess.run([python, "-c", "import pyinstrument"], capture_output=True)
    if probe.returncode == 0:
        return [python, "-m", "pyinstrument", "-r", "html", "-o", f"{out}.html", *rest]
    if shutil.which("py-spy"):
        return ["py-spy", "record", "-o", f"{out}.svg", "--", *cmd]
    print(
        "  --profile: neither pyinstrument nor py-spy is installed; running unprofiled",
        file=sys.stderr,
    )
    return cmd


def digest_cmd(config: Path, *args: str) -> list[str]:
    return [sys.executable, str(BENCH / "digest_entry.py"), "--config", str(config), *args]


# ---------------------------------------------------------------- the parse-bound limit


def _parse_one(path: str) -> int:
    import feedparser

    with open(path, "rb") as f:
        return len(feedparser.parse(f.read()).entries)


def _warm(_: int) -> int:
    import feedparser  # noqa: F401 - imported so the timed part does not pay for it

    return 0


def parse_limit(files: tuple[Path, ...], workers: int) -> tuple[float, int]:
    """Seconds for feedparser alone to parse every feed, in a warmed-up process pool."""
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        list(pool.map(_warm, range(workers * 2)))
        t0 = time.perf_counter()
        entries = sum(pool.map(_parse_one, [str(p) for p in files], chunksize=4))
        return time.perf_counter() - t0, entries


# ---------------------------------------------------------------- the run


def benchmark(args: argparse.Namespace, work: Path) -> Run:
    r = Run(args, work)
    r.facts["load_before"] = os.getloadavg()[0]
    sizes = workload.Sizes(args.feeds, args.items, args.topics, args.subscribers, args.seed)
    t0 = time.perf_counter()
    wl = workload.generate(work, sizes, dt.datetime.now(dt.UTC))
    r.facts["generate_seconds"] = time.perf_counter() - t0
    r.facts["feed_bytes"] = wl.feed_bytes
    print(
        f"workload: {args.feeds} feeds x {args.items} items ({wl.feed_bytes / 1e6:.1f} MB), "
        f"{args.topics} topics, {args.subscribers} subscribers in {work}",
        file=sys.stderr,
    )

    hosts = min(254, -(-args.feeds // args.feeds_per_host))
    r.facts["hosts"] = hosts
    with FeedServer(wl.feed_files, hosts) as http, SmtpSink() as sink:
        config = workload.write_config(wl, http.url, sink.port)

        workers = os.cpu_count() or 1
        seconds, entries = parse_limit(wl.feed_files, workers)
        r.facts.update(limit_seconds=seconds, limit_entries=entries, limit_workers=workers)
        print(
            f"  parse-bound limit: {seconds:.2f} s ({entries} entries, {workers} processes)",
            file=sys.stderr,
        )

        http.reset()
        cold = r.run("collect-cold", digest_cmd(config, "collect"), profile_as="collect-cold")
        cold.note = _summary_line(cold) + f"; server: {http.counts['200']} x 200"
        http.reset()
        warm = r.run("collect-warm", digest_cmd(config, "collect"), profile_as="collect-warm")
        warm.note = _summary_line(warm) + f"; server: {http.counts['304']} x 304, {http.counts['200']} x 200"
        r.facts["warm_304"] = http.counts["304"]
        if args.only == "collect":
            r.facts["load_after"] = os.getloadavg()[0]
            return r

        build = r.run("build", digest_cmd(config, "build", "--offline"), profile_as="build")
        build.note = _summary_line(build)
        # Every reader's message, encoded: what the naive way makes (output discarded).
        every = r.run(
            "build-messages",
            digest_cmd(config, "build", "--offline", "--stdout", "--format", "mbox"),
            profile_as="build-messages",
            discard_stdout=True,
        )
        every.note = "every reader's message encoded, as an mbox stream to /dev/null; " + _summary_line(every)

        naive = r.run(
            "naive",
            [
                sys.executable,
                str(BENCH / "naive.py"),
                str(config),
                "--sample",
                str(args.naive_sample),
                "--messages",
                str(work / "naive-messages.pickle"),
            ],
        )
        if naive.ok:
            r.facts["naive"] = json.loads(naive.stdout.strip().splitlines()[-1])
            naive.note = (
                f"{r.facts['naive']['sampled']} of {r.facts['naive']['recipients']} "
                f"readers rendered and encoded"
            )
        recipients = r.facts["naive"]["recipients"] if "naive" in r.facts else args.subscribers

        has_send = (
            subprocess.run(
                digest_cmd(config, "send", "--help"), capture_output=True, env=_env(), cwd=work
            ).returncode
            == 0
        )
        r.facts["has_send"] = has_send
        if has_send:
            sink.reset()
            send = r.run("send", digest_cmd(config, "send"), profile_as="send")
            r.facts["send_delivered"] = sink.messages
            send.note = f"{sink.messages} messages reached the sink; " + _summary_line(send)
        if naive.ok:
            sink.reset()
            bare = r.run(
                "bare-smtp",
                [
                    sys.executable,
                    str(BENCH / "bare_smtp.py"),
                    str(work / "naive-messages.pickle"),
                    "--port",
                    str(sink.port),
                    "--count",
                    str(recipients),
                ],
            )
            if bare.ok:
                r.facts["bare"] = json.loads(bare.stdout.strip().splitlines()[-1])
                bare.note = f"{sink.messages} messages reached the sink over one connection"

        if args.rss2email:
            rss2email(r, wl, http, sink)
    r.facts["load_after"] = os.getloadavg()[0]
    return r


def rss2email(r: Run, wl: workload.Workload, http: FeedServer, sink: SmtpSink) -> None:
    print("  rss2email: installing (once, cached in ~/.cache/digest-bench) ...", file=sys.stderr)
    try:
        exe = r2e_peer.ensure_venv()
    except (subprocess.CalledProcessError, OSError) as e:
        r.facts["r2e_error"] = f"could not install rss2email {r2e_peer.VERSION}: {e}"
        print(f"  {r.facts['r2e_error']}", file=sys.stderr)
        return
    folder = r.work / "rss2email"
    cfg = r2e_peer.write_config(
        folder, {p.stem: http.url(i, p.name) for i, p in enumerate(wl.feed_files)}, sink.port
    )
    env = dict(os.environ)
    total = len(wl.feed_files) * wl.items

    sink.reset()
    http.reset()
    nosend = r.run("r2e-nosend", r2e_peer.command(exe, cfg, folder / "nosend.json", "--no-send"), env=env)
    nosend.note = f"fresh data file; server: {http.counts['200']} x 200"
    http.reset()
    warm = r.run("r2e-warm", r2e_peer.command(exe, cfg, folder / "nosend.json", "--no-send"), env=env)
    warm.note = f"second run on the same data file; server: {http.counts['304']} x 304"
    sink.reset()
    send = r.run("r2e-send", r2e_peer.command(exe, cfg, folder / "send.json"), env=env)
    r.facts["r2e_delivered"] = sink.messages
    send.note = f"fresh data file; {sink.messages} of {total} entries reached the SMTP sink"
    if sink.messages < total:
        send.note += " (fewer than the entries: check its log)"


def _summary_line(step: Step) -> str:
    lines = [ln for ln in step.stderr.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else ""


# ---------------------------------------------------------------- the report


def _s(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"


def _mb(step: Step | None) -> str:
    return f"{step.peak_mb:.0f} MB" if step and step.peak_mb is not None else "—"


def _faster(ratio: float) -> str:
    return f"{ratio:.1f}× faster" if ratio >= 1 else f"{1 / ratio:.1f}× slower"


def _verdict(ok: bool) -> str:
    return "pass" if ok else "**miss**"


def rows(r: Run) -> list[tuple[str, ...]]:
    """(measure, digest, baseline, ratio, target, result, peak RSS digest / baseline)."""
    st, f, a = r.steps, r.facts, r.args
    out: list[tuple[str, ...]] = []
    cold = st.get("collect-cold")
    cold_ok = cold is not None and cold.ok

    limit = f.get("limit_seconds")
    if cold_ok and limit:
        ratio = cold.seconds / limit
        out.append(
            (
                ROWS[0],
                _s(cold.seconds),
                f"{_s(limit)} (feedparser alone, {f['limit_workers']} processes)",
                f"{ratio:.2f}× the limit",
                f"≤ {COLLECT_VS_LIMIT}×",
                _verdict(ratio <= COLLECT_VS_LIMIT),
                _mb(cold) + " / —",
            )
        )
    else:
        out.append(
            (
                ROWS[0],
                cold.failure() if cold else "—",
                "—",
                "—",
                f"≤ {COLLECT_VS_LIMIT}×",
                "—",
                _mb(cold),
            )
        )

    for label, name, target in (
        (ROWS[1], "r2e-nosend", FASTER_THAN_R2E_NOSEND),
        (ROWS[2], "r2e-send", FASTER_THAN_R2E_SEND),
    ):
        peer = st.get(name)
        if not a.rss2email or peer is None or not peer.ok or not cold_ok:
            if not a.rss2email:
                why = "skipped (--quick)" if a.quick else "skipped (--no-rss2email)"
            else:
                why = peer.failure() if peer else str(f.get("r2e_error", "not run"))
            out.append(
                (
                    label,
                    _s(cold.seconds) if cold_ok else "—",
                    why,
                    "—",
                    f"≥ {target:g}× faster",
                    "—",
                    _mb(cold) + " / " + _mb(peer),
                )
            )
        else:
            ratio = peer.seconds / cold.seconds
            out.append(
                (
                    label,
                    _s(cold.seconds),
                    f"{_s(peer.seconds)} (rss2email {r2e_peer.VERSION})",
                    _faster(ratio),
                    f"≥ {target:g}× faster",
                    _verdict(ratio >= target),
                    _mb(cold) + " / " + _mb(peer),
                )
            )

    warm = st.get("collect-warm")
    peer = st.get("r2e-warm")
    peer_text = f"{_s(peer.seconds)} (rss2email warm)" if peer and peer.ok else "—"
    if warm and warm.ok:
        ratio = _faster(peer.seconds / warm.seconds) if peer and peer.ok else "—"
        out.append(
            (
                f"{ROWS[3]} ({f.get('warm_304', 0)} × 304)",
                _s(warm.seconds),
                peer_text,
                ratio,
                f"< {WARM_COLLECT_SECONDS:g} s",
                _verdict(warm.seconds < WARM_COLLECT_SECONDS),
                _mb(warm) + " / " + _mb(peer),
            )
        )
    else:
        out.append(
            (
                ROWS[3],
                warm.failure() if warm else "—",
                peer_text,
                "—",
                f"< {WARM_COLLECT_SECONDS:g} s",
                "—",
                _mb(warm),
            )
        )

    # The naive way makes every reader's message, so compare with digest doing the same.
    build, naive = st.get("build-messages"), f.get("naive")
    naive_step = st.get("naive")
    n = naive["recipients"] if naive else a.subscribers
    label = f"{ROWS[4]} ({n} recipients, {naive['editions']} editions)" if naive else ROWS[4]
    if naive:
        naive_total = naive["load_seconds"] + naive["per_recipient"] * n
        how = f"extrapolated from {naive['sampled']} readers" if naive["sampled"] < n else "every reader"
        naive_text = (
            f"{_s(naive_total)} ({naive['per_recipient'] * 1000:.1f} ms per recipient, {how}; "
            f"{_s(naive['load_seconds'])} of it loading and planning the day)"
        )
    else:
        naive_text = naive_step.failure() if naive_step else "—"
    if build and build.ok and naive:
        ratio = naive_total / build.seconds
        out.append(
            (
                label,
                f"{_s(build.seconds)} ({build.seconds / max(n, 1) * 1000:.2f} ms per recipient)",
                naive_text,
                _faster(ratio),
                f"≥ {BUILD_VS_NAIVE:g}× faster",
                _verdict(ratio >= BUILD_VS_NAIVE),
                _mb(build) + " / " + _mb(naive_step),
            )
        )
        plain = st.get("build")
        if plain and plain.ok:
            # The whole day: planning from the 25,000 articles as well. The naive way
            # would plan too; digest's plain build time stands in for that (it also
            # writes files, so this favours the naive way).
            whole, naive_whole = plain.seconds + build.seconds, naive_total + plain.seconds
            out.append(
                (
                    "the whole day: build, then every message (planning included on both sides)",
                    f"{_s(whole)} (build {_s(plain.seconds)} + messages {_s(build.seconds)})",
                    f"{_s(naive_whole)} (the naive messages + the same build)",
                    _faster(naive_whole / whole),
                    "— (informational)",
                    "—",
                    _mb(plain),
                )
            )
    else:
        what = build.failure() if build else "—"
        if build and build.ok:
            what = f"{_s(build.seconds)} ({build.seconds / max(n, 1) * 1000:.2f} ms per recipient)"
        out.append(
            (
                label,
                what,
                naive_text,
                "—",
                f"≥ {BUILD_VS_NAIVE:g}× faster",
                "—",
                _mb(build) + " / " + _mb(naive_step),
            )
        )

    send, bare = st.get("send"), f.get("bare")
    bare_rate = bare["sent"] / bare["seconds"] if bare and bare["seconds"] else None
    bare_text = f"{bare_rate:.0f} msg/s ({bare['sent']} messages)" if bare_rate else "—"
    if not f.get("has_send"):
        out.append(
            (
                ROWS[5],
                "n/a (digest send missing)",
                bare_text,
                "n/a",
                f"≥ {SEND_VS_BARE:.0%} of bare",
                "n/a",
                "— / " + _mb(st.get("bare-smtp")),
            )
        )
    elif send and send.ok and bare_rate:
        rate = f.get("send_delivered", 0) / send.seconds
        out.append(
            (
                ROWS[5],
                f"{rate:.0f} msg/s ({f.get('send_delivered', 0)} messages)",
                bare_text,
                f"{rate / bare_rate:.0%} of bare",
                f"≥ {SEND_VS_BARE:.0%} of bare",
                _verdict(rate >= SEND_VS_BARE * bare_rate),
                _mb(send) + " / " + _mb(st.get("bare-smtp")),
            )
        )
    else:
        out.append(
            (
                ROWS[5],
                send.failure() if send else "—",
                bare_text,
                "—",
                f"≥ {SEND_VS_BARE:.0%} of bare",
                "—",
                _mb(send),
            )
        )

    ours = [
        s
        for k, s in st.items()
        if k in ("collect-cold", "collect-warm", "build", "build-messages", "send") and s.peak_mb is not None
    ]
    if ours:
        top = max(ours, key=lambda s: s.peak_mb or 0)
        out.append(
            (
                f"{ROWS[6]} (largest digest step: {top.name})",
                f"{top.peak_mb:.0f} MB",
                "—",
                "—",
                f"< {PEAK_MB:g} MB",
                _verdict((top.peak_mb or 0) < PEAK_MB),
                _mb(top),
            )
        )
    else:
        out.append((ROWS[6], "—", "—", "—", f"< {PEAK_MB:g} MB", "—", "—"))
    return out


def machine() -> list[tuple[str, str]]:
    cpu = "unknown"
    try:
        m = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        cpu = m.group(1).strip() if m else cpu
    except OSError:
        pass
    ram = "unknown"
    try:
        m = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.MULTILINE)
        ram = f"{int(m.group(1)) / 1024 / 1024:.1f} GiB" if m else ram
    except OSError:
        pass
    version = subprocess.run(
        [sys.executable, str(BENCH / "digest_entry.py"), "--version"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    rev = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    # Dirty only when digest itself has uncommitted changes (bench/ does not count).
    dirty = subprocess.run(
        [
            "git",
            "-C",
            str(REPO),
            "status",
            "--porcelain",
            "--",
            "digest",
            "templates",
            "pyproject.toml",
        ],
        capture_output=True,
        text=True,
    ).stdout.strip()
    rev += "-dirty" if dirty else ""
    return [
        ("date", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        (
            "machine",
            f"{os.cpu_count()} cores ({cpu}), {ram} RAM, {platform.system()} {platform.release()}",
        ),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("digest", f"{version or 'unknown'} (commit {rev or 'unknown'})"),
    ]


def _table(header: tuple[str, ...], body: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in body]
    return "\n".join(lines)


def report(r: Run) -> str:
    a, f = r.args, r.facts
    cmd = "python bench/run.py" + ("" if a.argv_default else " " + " ".join(a.argv))
    summary = _table(
        (
            "measure",
            "digest",
            "baseline",
            "ratio",
            "target",
            "result",
            "peak RSS (digest / baseline)",
        ),
        rows(r),
    )
    steps = _table(
        ("step", "wall time", "peak RSS", "notes"),
        [(s.name, _s(s.seconds), _mb(s), s.note if s.ok else s.failure()) for s in r.steps.values()]
        + [
            (
                "parse-bound limit",
                _s(f["limit_seconds"]) if "limit_seconds" in f else "—",
                "—",
                f"{f.get('limit_entries', 0)} entries through feedparser.parse in "
                f"{f.get('limit_workers', 0)} processes",
            )
        ],
    )
    facts = "\n".join(f"- {k}: {v}" for k, v in machine())
    facts += (
        f"\n- load average (1 min) {f.get('load_before', 0):.2f} before the run, "
        f"{f.get('load_after', 0):.2f} after it"
    )
    if max(f.get("load_before", 0), f.get("load_after", 0)) > 0.5:
        facts += ": other work shared the cores, so the figures are pessimistic"
    return f"""# Benchmark results

Written by `{cmd}` (issue 6).
Everything ran on loopback: feeds from local threaded HTTP servers with
ETag/Last-Modified, mail to a local aiosmtpd sink on 127.0.0.1.

{facts}
- workload: {a.feeds} feeds × {a.items} items ({f.get("feed_bytes", 0) / 1e6:.1f} MB of RSS 2.0
  with content:encoded), {a.topics} topics, {a.subscribers} subscribers with 3-5 topics each,
  seed {a.seed}; served from {f.get("hosts", 1)} loopback address(es) from 127.0.0.1 on,
  {a.feeds_per_host} feeds each (publishers spread over many hosts; per-host limits apply)

## Against the targets

{summary}

## Every step

{steps}

Wall times include starting Python and importing digest. Peak RSS is the
largest resident set of the step's process tree (wait4). digest steps run
through its command line (`digest --config digest.toml collect`, `build
--offline`, `send`); the naive build and the bare SMTP client are
`bench/naive.py` and `bench/bare_smtp.py`.
"""


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]),
    )
    p.add_argument("--feeds", type=int, default=500)
    p.add_argument("--items", type=int, default=50, help="items per feed")
    p.add_argument("--topics", type=int, default=20, help=f"1 to {workload.TOPIC_COUNT_MAX}")
    p.add_argument("--subscribers", type=int, default=10_000)
    p.add_argument(
        "--feeds-per-host",
        type=int,
        default=10,
        help="feeds served from each loopback address (127.0.0.1, .2, ...), as publishers"
        " spread over many hosts in the wild; a per-host limit applies per address [default: 10]",
    )
    p.add_argument("--seed", type=int, default=6)
    p.add_argument(
        "--naive-sample",
        type=int,
        default=200,
        help="readers the naive build renders; its total is extrapolated (0 = all)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a tiny workload, no rss2email, no network: what the test suite runs",
    )
    p.add_argument(
        "--no-rss2email",
        dest="rss2email",
        action="store_false",
        help="skip the rss2email comparison (it needs PyPI the first time)",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="run the digest steps under pyinstrument (or py-spy); reports go to WORKDIR/profiles",
    )
    p.add_argument(
        "--only",
        choices=("collect",),
        help="run only digest's collect steps and the parse-bound limit (no rss2email);"
        " writes no RESULTS.md unless --output is given",
    )
    p.add_argument(
        "--step-timeout",
        type=float,
        default=1800,
        help="seconds before a step is killed and reported as failed [default: 1800]",
    )
    p.add_argument(
        "--workdir",
        type=Path,
        help="keep the workload and logs here [default: a temp dir, removed]",
    )
    p.add_argument("--output", type=Path, help="results file [default: bench/RESULTS.md; none with --quick]")
    args = p.parse_args(argv)
    args.argv = argv
    args.argv_default = not argv
    if args.quick:
        args.feeds, args.items, args.topics, args.subscribers = 4, 8, 5, 25
        args.naive_sample = 10
        args.rss2email = False
    if args.only:
        args.rss2email = False
    if args.output is None and not args.quick and not args.only:
        args.output = BENCH / "RESULTS.md"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    keep = args.workdir is not None or args.profile
    work = args.workdir or Path(tempfile.mkdtemp(prefix="digest-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        r = benchmark(args, work)
        text = report(r)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    print(text)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    if args.profile:
        print(f"profiles in {work / 'profiles'}", file=sys.stderr)
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main())
