"""Messages: headers, personalisation, line lengths, header injection from feed text."""

from __future__ import annotations

import datetime as dt
import email
import hashlib
import hmac
from email import policy
from pathlib import Path

import pytest

from digest import message
from digest.models import Subscriber
from digest.render import Renderer

from . import emails

SECRET = b"test-secret"
BUILT = dt.datetime(2025, 7, 4, 5, 30, tzinfo=dt.UTC)


def _build(cfg, ed, reader=None):
    reader = reader or Subscriber("ana@example.org", "Ana", ("superpowers",))
    r = Renderer(cfg).render(ed)
    return message.build(r, cfg, SECRET, reader, ed.date, BUILT).raw


@pytest.fixture
def cfg(sample: Path):
    return emails.config(sample, 'unsubscribe_mailto = "mailto:leave@example.org?subject=unsubscribe%20{email}"')


def test_headers(cfg):
    raw = _build(cfg, emails.sample_edition(), Subscriber("zoe@example.org", "Zoë Ångström", ("superpowers",)))
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["From"] == "Defence Daily <news@example.org>"
    assert msg["To"] == "Zoë Ångström <zoe@example.org>"
    assert b"To: =?utf-8?" in raw  # the non-ASCII name is encoded
    assert msg["Reply-To"] == "editor@example.org"
    assert msg["Subject"] == "Defence Daily, Friday 4 July 2025: Interceptor test number 1 meets its goals"
    assert msg["Date"] == "Fri, 04 Jul 2025 06:30:00 +0100"  # Europe/London, summer time
    assert msg["List-Id"] == "Defence Daily <defence-daily.example.org>"
    token = hmac.new(SECRET, b"zoe@example.org", hashlib.sha256).hexdigest()[:32]
    assert msg["List-Unsubscribe"] == (
        f"<https://example.org/unsubscribe?e=zoe@example.org&t={token}>, "
        "<mailto:leave@example.org?subject=unsubscribe%20zoe@example.org>")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in msg.iter_parts())


def test_message_id_is_stable_for_edition_and_recipient(cfg):
    ed = emails.sample_edition()
    ana = email.message_from_bytes(_build(cfg, ed), policy=policy.default)
    again = email.message_from_bytes(_build(cfg, ed), policy=policy.default)
    ben = email.message_from_bytes(_build(cfg, ed, Subscriber("ben@example.org", "", ("x",))),
                                   policy=policy.default)
    assert ana["Message-ID"] == again["Message-ID"] != ben["Message-ID"]
    assert ana["Message-ID"].endswith("@example.org>")


def test_non_ascii_subject_is_encoded_and_folded(cfg):
    ed = emails.edition({"superpowers": [emails.story(1, title="Zürich: Überwachung " * 10)]})
    raw = _build(cfg, ed)
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"Subject: Defence Daily, Friday 4 July 2025: =?utf-8?" in head
    assert all(len(line) <= 78 for line in head.split(b"\r\n") if not line.startswith(b"List-"))
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["Subject"].startswith("Defence Daily, Friday 4 July 2025: Zürich: Überwachung")
    assert msg["Subject"].endswith("…")  # the headline is shortened in the subject


def test_personalisation_fills_placeholders_per_reader(cfg):
    raw = _build(cfg, emails.sample_edition())
    msg = email.message_from_bytes(raw, policy=policy.default)
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    for part in (html, text):
        assert "%%DIGEST" not in part
        assert "Good morning, Ana." in part and "ana@example.org" in part
    assert 'href="https://example.org/unsubscribe?e=ana@example.org&amp;t=' in html


def test_no_line_over_998_octets_with_huge_title_and_long_url(cfg):
    huge = "Breaking" + "x" * 5000 + " and " + "word " * 800
    url = "https://www.spacewar.example.com/" + "path/" * 600 + "?q=" + "y" * 2000
    ed = emails.edition({"superpowers": [emails.story(1, title=huge, url=url, lead=huge)]})
    raw = _build(cfg, ed)
    assert message.long_lines(raw) == []
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert url in msg.get_body(("html",)).get_content()
    assert url in msg.get_body(("plain",)).get_content()


def test_long_lines_finds_what_the_email_package_would_write_with_8bit():
    from email.message import EmailMessage
    m = EmailMessage()
    m["Subject"] = "x"
    m.set_content("y" * 2000 + "\n", cte="8bit")
    assert len(message.long_lines(m.as_bytes(policy=policy.SMTP))) == 1


@pytest.mark.parametrize("title", [
    "Headline\r\nBcc: victim@example.com",
    "Headline\nX-Injected: yes",
    "Headline\rSubject: spoofed",
    "Headline\x00\x0b\x0c\u2028Bcc: victim@example.com",
], ids=["crlf", "lf", "cr", "controls-and-line-separator"])
def test_feed_text_cannot_add_a_header(cfg, title):
    raw = _build(cfg, emails.edition({"superpowers": [emails.story(1, title=title)]}))
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    names = [line.split(":", 1)[0] for line in head.split("\r\n") if not line.startswith((" ", "\t"))]
    assert names == ["From", "To", "Reply-To", "Subject", "Date", "Message-ID", "List-Id",
                     "List-Unsubscribe", "List-Unsubscribe-Post", "X-Digest-Edition",
                     "MIME-Version", "Content-Type"]
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert "Bcc" not in msg and "X-Injected" not in msg and "\n" not in msg["Subject"]


def test_reader_name_cannot_break_the_to_header(cfg):
    reader = Subscriber("ana@example.org", 'Ana "x", <evil@example.com>\r\nBcc: y@example.com', ("superpowers",))
    msg = email.message_from_bytes(_build(cfg, emails.sample_edition(), reader), policy=policy.default)
    assert msg["To"].addresses[0].addr_spec == "ana@example.org"
    assert "Bcc" not in msg


def test_every_sample_message_parses(sample: Path):
    from digest import app
    from digest import config as config_mod
    cfg = config_mod.load(sample)
    result = app.build(cfg, offline=False, now=emails.NOW)
    msgs = list(result.day.messages())
    assert len(msgs) == 3
    for reader, msg in msgs:
        raw = msg.raw
        parsed = email.message_from_bytes(raw, policy=policy.default)
        assert parsed.defects == [] and all(p.defects == [] for p in parsed.walk())
        assert message.long_lines(raw) == []
        assert parsed["To"].addresses[0].addr_spec == reader.email


@pytest.mark.parametrize(("body", "quoted"), [
    (b"From the start\n", b">From the start\n"),
    (b"x From mid-line\n", b"x From mid-line\n"),
    (b"a\n>From quoted\n>>From twice\n", b"a\n>>From quoted\n>>>From twice\n"),
    (b"Fromage\nFrom", b"Fromage\nFrom"),
    (b"", b""),
], ids=["line-start", "mid-line", "already-quoted", "not-a-from-line", "empty"])
def test_mbox_quotes_from_lines_as_mboxrd(body, quoted):
    assert message._quote_from(body) == quoted
