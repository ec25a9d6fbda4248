"""`digest send` against a real SMTP server (aiosmtpd) on 127.0.0.1: no mocks.

Each test builds the sample edition, points `[smtp] url` at a server the test
starts, and checks what the server received: every reader exactly once, the
bytes `digest build --stdout --to` prints, through refusals, drops, a
SIGKILL half-way, STARTTLS with a self-signed certificate and AUTH.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import mailbox
import os
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from email import message_from_bytes
from email.utils import getaddresses
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner

from digest import app, deliver
from digest import config as config_mod
from digest.cli import main

DIGEST = Path(sys.executable).parent / "digest"
REPO_SAMPLES = Path(__file__).resolve().parent.parent / "digest" / "samples"
SAMPLE_READERS = ["ana@example.org", "ben@example.org", "chen@example.org"]
FAST = deliver.Retry(delays=(0.01, 0.01, 0.01), timeout=10)


# ---------------------------------------------------------------- the server


class Inbox:
    """An aiosmtpd handler that keeps what it accepts and misbehaves on request."""

    def __init__(self) -> None:
        self.received: list[tuple[str, tuple[str, ...], bytes]] = []  # (mail from, rcpt tos, data)
        self.refuse: dict[str, str] = {}  # recipient -> reply, every time
        self.refuse_once: dict[str, str] = {}  # recipient -> reply, the first time only
        self.drop_after = 0  # close the connection at the MAIL after this many per connection
        self.rcpt_delay = 0.0  # seconds to sit on each RCPT before answering
        self.stall_once: dict[str, float] = {}  # recipient -> seconds to sit on its first RCPT
        self.rcpts_started = 0
        self.sessions: set[int] = set()
        self._per_session: Counter[int] = Counter()
        self.lock = threading.Lock()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: ANN001
        self.sessions.add(id(session))
        if self.drop_after and self._per_session[id(session)] >= self.drop_after:
            server.transport.close()
            return "421 4.3.2 closing (test)"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001
        self.rcpts_started += 1
        if self.rcpt_delay:
            await asyncio.sleep(self.rcpt_delay)
        if address in self.stall_once:
            await asyncio.sleep(self.stall_once.pop(address))
        if address in self.refuse:
            return self.refuse[address]
        if address in self.refuse_once:
            return self.refuse_once.pop(address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        with self.lock:
            self.received.append((envelope.mail_from, tuple(envelope.rcpt_tos), envelope.content))
        self._per_session[id(session)] += 1
        return "250 2.0.0 accepted"

    def count(self) -> Counter[str]:
        return Counter(r for _f, rcpts, _d in self.received for r in rcpts)

    def data_for(self, email: str) -> bytes:
        (data,) = [d for _f, rcpts, d in self.received if email in rcpts]
        return data


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server() -> Iterator[Controller]:
    """Start an aiosmtpd server on loopback: `server(handler, **smtp_options)`."""
    started: list[Controller] = []

    def start(handler: Inbox, **kwargs: object) -> Controller:
        c = Controller(handler, hostname="127.0.0.1", port=_free_port(), **kwargs)
        c.start()
        started.append(c)
        return c

    yield start  # type: ignore[misc]
    for c in started:
        c.stop()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1: (cert.pem, key.pem)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True)
    return cert, key


def _server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*certificate)
    return ctx


# ---------------------------------------------------------------- the sample, built


def _configure(sample: Path, url: str, *, extra: int = 0, smtp: str = "",
               rate: int = 10_000) -> Path:
    """Point the sample config at `url`; add `extra` all-topics readers."""
    text = sample.read_text(encoding="utf-8")
    text = text.replace('url = "smtp://localhost:25"', f'url = "{url}"{smtp}')
    text = text.replace("rate = 10\n", f"rate = {rate}\n")
    for i in range(extra):
        text += f'\n[[subscribers]]\nemail = "reader{i:03d}@example.net"\nname = "Reader {i}"\n'
    sample.write_text(text, encoding="utf-8")
    return sample


def _cli(*args: str) -> object:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _build(cfg: Path) -> None:
    result = _cli("--config", str(cfg), "build")
    assert result.exit_code == 0, result.output


def _readers(cfg: Path) -> list[str]:
    return [s.email for s in config_mod.load(cfg).subscribers]


def _stdout_message(cfg: Path, email: str) -> bytes:
    result = _cli("--config", str(cfg), "build", "--stdout", "--to", email)
    assert result.exit_code == 0, result.stderr
    return result.stdout_bytes


def _deliveries(cfg: Path) -> dict[str, tuple[str, int]]:
    db = sqlite3.connect(cfg.parent / "digest.sqlite")
    try:
        rows = db.execute("SELECT email, status, attempts FROM deliveries")
        return {e: (s, n) for e, s, n in rows}
    finally:
        db.close()


@pytest.fixture(autouse=True)
def _quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's retries, without the real 0.5/1/2 s waits."""
    monkeypatch.setattr(deliver, "DEFAULT_RETRY", FAST)


# ---------------------------------------------------------------- a normal run


def test_send_delivers_each_reader_once_with_the_stdout_bytes(sample: Path, server) -> None:
    inbox = Inbox()
    c = server(inbox)
    cfg = _configure(sample, f"smtp://127.0.0.1:{c.port}")
    _build(cfg)

    result = _cli("--config", str(cfg), "send")

    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[-1].endswith(": 3 sent, 0 already sent, 0 failed, 0 deferred")
    assert inbox.count() == Counter(SAMPLE_READERS)
    assert len(inbox.sessions) == 1  # one connection for every message
    for email in SAMPLE_READERS:
        data = inbox.data_for(email)
        msg = message_from_bytes(data)
        assert [a for _n, a in getaddresses([msg["To"]])] == [email]
        assert data == _stdout_message(cfg, email)  # byte for byte, CRLF and all
    assert {f for f, _r, _d in inbox.received} == {"news@example.org"}  # envelope = From
    assert {e: s for e, (s, _n) in _deliveries(cfg).items()} == dict.fromkeys(SAMPLE_READERS,
                                                                               "sent")

    again = _cli("--config", str(cfg), "send")

    assert again.exit_code == 0
    assert again.stderr.splitlines()[-1].endswith(": 0 sent, 3 already sent, 0 failed, 0 deferred")
    assert inbox.count() == Counter(SAMPLE_READERS)


def test_dry_run_lists_and_changes_nothing(sample: Path, server) -> None:
    inbox = Inbox()
    c = server(inbox)
    cfg = _configure(sample, f"smtp://127.0.0.1:{c.port}")
    _build(cfg)
    assert _cli("--config", str(cfg), "send", "--to", "ben@example.org").exit_code == 0

    result = _cli("--config", str(cfg), "send", "--dry-run")

    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "would send\tana@example.org\tsuperpowers+missile-defense",
        "already sent\tben@example.org\tmilitary-space+nuclear-weapons",
        "would send\tchen@example.org\tall",
    ]
    assert inbox.count() == Counter(["ben@example.org"])
    assert _deliveries(cfg) == {"ben@example.org": ("sent", 1)}


def test_to_sends_only_that_reader(sample: Path, server) -> None:
    inbox = Inbox()
    c = server(inbox)
    cfg = _configure(sample, f"smtp://127.0.0.1:{c.port}")
    _build(cfg)

    result = _cli("--config", str(cfg), "send", "--to", "Chen@Example.org")

    assert result.exit_code == 0
    assert inbox.count() == Counter(["chen@example.org"])
    stranger = _cli("--config", str(cfg), "send", "--to", "eve@example.org")
    assert stranger.exit_code == 2
    assert stranger.stderr == "Error: eve@example.org is not a subscriber\n"


def test_send_before_build_is_a_usage_error(sample: Path) -> None:
    cfg = _configure(sample, "smtp://127.0.0.1:9")

    result = _cli("--config", str(cfg), "send", "--date", "2025-07-03")

    assert result.exit_code == 2
    assert result.stderr == ("Error: no edition of 2025-07-03 has been built yet;"
                             " run `digest build --date 2025-07-03`\n")


# ---------------------------------------------------------------- refusals and drops


def test_temporary_refusal_is_retried_within_the_run(sample: Path, server) -> None:
    inbox = Inbox()
    inbox.refuse_once["ben@example.org"] = "451 4.7.1 greylisted, try again"
    c = server(inbox)
    cfg = _configure(sample, f"smtp://127.0.0.1:{c.port}")
    _build(cfg)

    result = _cli("--config", str(cfg), "send")

    assert result.exit_code == 0, result.stderr
    assert inbox.count() == Counter(SAMPLE_READERS)
    assert _deliveries(cfg)["ben@example.org"] == ("sent", 1)


def test_persistent_temporary_refusal_is_deferred_to_the_next_run(sample: Path, server) -> None:
    inbox = Inbox()
    inbox.refuse["ben@example.org"] = "452 4.2.2 mailbox full"
    c = server(inbox)
    cfg = _configure(sample, f"smtp://127.0.0.1:{c.port}")
    _build(cfg)

    result = _cli("--config", str(cfg), "send")

    assert result.exit_code == 1
    assert "Error: ben@example.org: deferred: 452 4.2.2 mailbox full\n" in result.stderr
    assert result.stderr.splitlines()[-1].endswith(
        ": 2 sent, 0 already sent, 0 failed, 1 deferred (run `digest send` again for the deferred)")
    assert inbox.rcpts_started == 2 + 1 + len(FAST.delays)  # ben: four tries

    del inbox.refuse["ben@example.org"]
    again = _cli("--config", str(cfg), "send")

    assert again.exit_code == 0
    assert again.stderr.splitlines()[-1].endswith(": 1 sent, 2 already sent, 0 failed, 0 deferred")
    assert inbox.count() == Counter(SAMPLE_READERS)


def test_permanent_refusal_is_reported_and_the_others_delivered(sample: Path, server) -> None:
    inbox = Inbox()
    inbox.refuse["ben@example.org"] = "550 5.1.1 no such user"
    c = server(inbox)
    cfg = _configure(sample, f"smtp://127.0.0.1:{c.port}")
    _build(cfg)

    result = _cli("--config", str(cfg), "send")

    assert result.exit_code == 1
    assert "Error: ben@example.org: failed: 550 5.1.1 no such user\n" in result.stderr
    assert result.stderr.splitlines()[-1].endswith(": 2 sent, 0 already sent, 1 failed, 0 deferred")
    assert inbox.count() == Counter(["ana@example.org", "chen@example.org"])
    assert inbox.rcpts_started == 3  # a 5xx is not retried
    assert _deliveries(cfg)["ben@example.org"] == ("failed", 1)

    again = _cli("--config", str(cfg), "send")  # still undelivered: still exit 1

    assert again.exit_code == 1
    assert again.stderr.splitlines()[-1].endswith(": 0 sent, 2 already sent, 1 failed, 0 deferred")
    assert inbox.count() == Counter(["ana@example.org", "chen@example.org"])


def test_dropped_connections_are_reopened(sample: Path, server) -> None:
    inbox = Inbox()
    inbox.drop_after = 3
    c = server(inbox)
    cfg = _configure(sample, f"smtp://127.0.0.1:{c.port}", extra=8)
    _build(cfg)

    result = _cli("--config", str(cfg), "send")

    assert result.exit_code == 0, result.stderr
    assert inbox.count() == Counter(_readers(cfg))
    assert len(inbox.sessions) == 4  # 11 messages, 3 per connection


def test_a_relay_that_stops_answering_times_out_and_is_retried(sample: Path, server) -> None:
    inbox = Inbox()
    inbox.stall_once["ben@example.org"] = 2.0
    c = server(inbox)
    cfg = _configure(sample, f"smtp://127.0.0.1:{c.port}")
    _build(cfg)

    result = app.send(config_mod.load(cfg), date=_built_date(cfg),
                      retry=deliver.Retry(delays=(0.01,), timeout=0.5))

    assert [(d.email, d.status) for d in result.deliveries] == [
        (e, "sent") for e in SAMPLE_READERS]
    assert inbox.count() == Counter(SAMPLE_READERS)
    assert len(inbox.sessions) == 2  # the stalled connection was given up and a new one opened


def test_unreachable_relay_defers_everyone(sample: Path) -> None:
    cfg = _configure(sample, f"smtp://127.0.0.1:{_free_port()}")
    _build(cfg)

    result = _cli("--config", str(cfg), "send")

    assert result.exit_code == 1
    assert result.stderr.count(": deferred: cannot connect to smtp://127.0.0.1:") == 3
    assert result.stderr.splitlines()[-1].endswith(
        ": 0 sent, 0 already sent, 0 failed, 3 deferred (run `digest send` again for the deferred)")


# ---------------------------------------------------------------- a crash half-way


def test_sigkill_half_way_then_rerun_sends_each_reader_exactly_once(sample: Path, server) -> None:
    inbox = Inbox()
    inbox.rcpt_delay = 0.3
    c = server(inbox)
    cfg = _configure(sample, f"smtp://127.0.0.1:{c.port}", extra=5)
    _build(cfg)
    readers = _readers(cfg)

    proc = subprocess.Popen([str(DIGEST), "--config", str(cfg), "send"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    # Kill once two are accepted and the client is waiting on a later RCPT: by then
    # it has recorded the second (it records before starting the next message).
    while not (len(inbox.received) >= 2 and inbox.rcpts_started > len(inbox.received)):
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the send never got going"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stderr.close()  # type: ignore[union-attr]
    first = len(inbox.received)
    assert 2 <= first < len(readers)

    inbox.rcpt_delay = 0
    again = subprocess.run([str(DIGEST), "--config", str(cfg), "send"],
                           capture_output=True, text=True, timeout=60)

    assert again.returncode == 0, again.stderr
    assert again.stderr.splitlines()[-1].endswith(
        f": {len(readers) - first} sent, {first} already sent, 0 failed, 0 deferred")
    assert inbox.count() == Counter(readers)  # every reader exactly once


# ---------------------------------------------------------------- TLS and AUTH


def _authenticator(server, session, envelope, mechanism, auth_data):  # noqa: ANN001
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"digest", b"s3cret")
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535


def _tls_server(server, certificate: tuple[Path, Path], inbox: Inbox) -> Controller:
    return server(inbox, tls_context=_server_tls(certificate), require_starttls=True,
                  auth_require_tls=True, auth_required=True, authenticator=_authenticator)


def test_starttls_and_auth_with_a_trusted_self_signed_certificate(
        sample: Path, server, certificate, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox = Inbox()
    c = _tls_server(server, certificate, inbox)
    cfg = _configure(sample, f"smtp://localhost:{c.port}",
                     smtp='\nusername = "digest"\npassword_env = "TEST_SMTP_PASSWORD"')
    _build(cfg)
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # how a user trusts a private CA

    result = _cli("--config", str(cfg), "send")

    assert result.exit_code == 0, result.stderr
    assert inbox.count() == Counter(SAMPLE_READERS)
    assert inbox.data_for("ana@example.org") == _stdout_message(cfg, "ana@example.org")


def test_library_takes_an_ssl_context(sample: Path, server, certificate, monkeypatch) -> None:
    inbox = Inbox()
    c = _tls_server(server, certificate, inbox)
    cfg = _configure(sample, f"smtp://127.0.0.1:{c.port}",
                     smtp='\nusername = "digest"\npassword_env = "TEST_SMTP_PASSWORD"')
    _build(cfg)
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")

    result = app.send(config_mod.load(cfg), date=_built_date(cfg), retry=FAST,
                      ssl_context=ssl.create_default_context(cafile=str(certificate[0])))

    assert [d.status for d in result.deliveries] == ["sent"] * 3
    assert inbox.count() == Counter(SAMPLE_READERS)


def test_implicit_tls_smtps(sample: Path, server, certificate, monkeypatch) -> None:
    inbox = Inbox()
    c = server(inbox, ssl_context=_server_tls(certificate))
    cfg = _configure(sample, f"smtps://localhost:{c.port}")
    _build(cfg)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))

    result = _cli("--config", str(cfg), "send")

    assert result.exit_code == 0, result.stderr
    assert inbox.count() == Counter(SAMPLE_READERS)


def test_untrusted_certificate_is_refused(sample: Path, server, certificate) -> None:
    inbox = Inbox()
    c = server(inbox, tls_context=_server_tls(certificate))
    cfg = _configure(sample, f"smtp://localhost:{c.port}")
    _build(cfg)

    result = _cli("--config", str(cfg), "send")

    assert result.exit_code == 1
    # (The server thread may log the failed handshake to the same stderr: look for our line.)
    assert (f"Error: TLS with smtp://localhost:{c.port} failed: certificate verify failed:"
            " self-signed certificate (for a relay with a private CA, point SSL_CERT_FILE at"
            " the CA's PEM file)") in result.stderr.splitlines()
    assert inbox.received == []


def test_credentials_are_never_sent_without_tls(sample: Path, server, monkeypatch) -> None:
    inbox = Inbox()
    c = server(inbox)  # no STARTTLS offered
    cfg = _configure(sample, f"smtp://127.0.0.1:{c.port}",
                     smtp='\nusername = "digest"\npassword_env = "TEST_SMTP_PASSWORD"')
    _build(cfg)
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")

    result = _cli("--config", str(cfg), "send")

    assert result.exit_code == 1
    assert (f"Error: smtp://127.0.0.1:{c.port} does not offer STARTTLS; refusing to send the"
            " password in the clear (use an smtps:// URL if the relay speaks implicit TLS)"
            ) in result.stderr.splitlines()
    assert inbox.received == []


def test_wrong_password_is_a_clear_error(sample: Path, server, certificate, monkeypatch) -> None:
    inbox = Inbox()
    c = _tls_server(server, certificate, inbox)
    cfg = _configure(sample, f"smtp://localhost:{c.port}",
                     smtp='\nusername = "digest"\npassword_env = "TEST_SMTP_PASSWORD"')
    _build(cfg)
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong")
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))

    result = _cli("--config", str(cfg), "send")

    assert result.exit_code == 1
    assert f"Error: smtp://localhost:{c.port} refused the login of 'digest': 535" in result.stderr
    assert inbox.received == []


def test_missing_password_variable_is_a_config_error(sample: Path, monkeypatch) -> None:
    cfg = _configure(sample, "smtp://127.0.0.1:9",
                     smtp='\nusername = "digest"\npassword_env = "TEST_SMTP_PASSWORD"')
    monkeypatch.delenv("TEST_SMTP_PASSWORD", raising=False)

    result = _cli("--config", str(cfg), "send")

    assert result.exit_code == 2
    assert result.stderr == ("Error: digest.toml: smtp.password_env: the environment variable"
                             " TEST_SMTP_PASSWORD is not set\n")


def _built_date(cfg: Path) -> dt.date:
    db = sqlite3.connect(cfg.parent / "digest.sqlite")
    try:
        (d,) = db.execute("SELECT date FROM editions").fetchone()
    finally:
        db.close()
    return dt.date.fromisoformat(d)


# ---------------------------------------------------------------- the rate limit


def test_rate_spaces_transactions() -> None:
    """A fake clock: at rate 4, each transaction starts 0.25 s after the one before."""
    now = [0.0]
    starts: list[float] = []

    def sleep(s: float) -> None:
        now[0] += s

    pace = deliver._Pacer(4, sleep, lambda: now[0])
    for _ in range(5):
        pace.wait()
        starts.append(now[0])
        now[0] += 0.05  # the transaction itself
    assert starts == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])


# ---------------------------------------------------------------- pipes: sendmail -t style

# What `sendmail -t` does, in the standard library: recipients from To/Cc/Bcc,
# the envelope sender from From, the bytes passed on untouched.
SENDMAIL_T = """
import smtplib, sys
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
raw = sys.stdin.buffer.read()
head = BytesParser().parsebytes(raw, headersonly=True)
fields = head.get_all("To", []) + head.get_all("Cc", []) + head.get_all("Bcc", [])
rcpts = [a for _n, a in getaddresses(fields)]
with smtplib.SMTP("127.0.0.1", int(sys.argv[1])) as s:
    s.sendmail(parseaddr(head["From"])[1], rcpts, raw)
"""


def _pipe(command: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=cwd, capture_output=True,
                          timeout=60)


def test_stdout_piped_to_a_stdlib_sendmail_t(sample: Path, server) -> None:
    inbox = Inbox()
    c = server(inbox)
    cfg = _configure(sample, "smtp://127.0.0.1:9")
    _build(cfg)
    script = cfg.parent / "sendmail_t.py"
    script.write_text(SENDMAIL_T, encoding="utf-8")

    done = _pipe(f"'{DIGEST}' --config digest.toml build --stdout --to ben@example.org"
                 f" | '{sys.executable}' sendmail_t.py {c.port}", cfg.parent)

    assert done.returncode == 0, done.stderr
    assert inbox.count() == Counter(["ben@example.org"])
    assert inbox.data_for("ben@example.org") == _stdout_message(cfg, "ben@example.org")
    assert _deliveries(cfg) == {}  # a pipe records nothing: the relay's log is the record


@pytest.mark.skipif(not shutil.which("msmtp"),
                    reason="msmtp is not installed (apt-get install msmtp)")
def test_stdout_piped_to_msmtp_t(sample: Path, server) -> None:
    inbox = Inbox()
    c = server(inbox)
    cfg = _configure(sample, "smtp://127.0.0.1:9")
    _build(cfg)

    done = _pipe(f"'{DIGEST}' --config digest.toml build --stdout --to chen@example.org"
                 f" | msmtp --host=127.0.0.1 --port={c.port} --auth=off --tls=off"
                 " --read-envelope-from -t", cfg.parent)

    assert done.returncode == 0, done.stderr
    assert inbox.count() == Counter(["chen@example.org"])
    assert inbox.received[0][0] == "news@example.org"
    # msmtp passes the CRLF message on untouched: no line-ending normalisation needed.
    assert inbox.data_for("chen@example.org") == _stdout_message(cfg, "chen@example.org")


def test_stdout_mbox_holds_every_readers_message(sample: Path) -> None:
    cfg = _configure(sample, "smtp://127.0.0.1:9")
    _build(cfg)
    result = _cli("--config", str(cfg), "build", "--stdout", "--format", "mbox")
    assert result.exit_code == 0, result.stderr
    path = cfg.parent / "day.mbox"
    path.write_bytes(result.stdout_bytes)

    box = mailbox.mbox(path, create=False)
    messages = list(box)
    box.close()

    assert [m["To"] for m in messages] == ["Ana <ana@example.org>", "Ben <ben@example.org>",
                                           "Chen <chen@example.org>"]
    for m, email in zip(messages, SAMPLE_READERS, strict=True):
        eml = message_from_bytes(_stdout_message(cfg, email))
        assert m["Message-ID"] == eml["Message-ID"]
        assert m.get_from().startswith("news@example.org ")
