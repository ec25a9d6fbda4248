"""`digest build` on the sample config, end to end through the CLI."""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest.cli import main

DATE = "2025-07-04"


def run(config: Path, *args: str) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.stdout_bytes, result.stderr


@pytest.fixture
def built(sample: Path) -> Path:
    code, _, err = run(sample, "build", "--date", DATE)
    assert code == 0, err
    return sample.parent / "outbox" / DATE


def test_build_writes_manifest_and_editions(built: Path) -> None:
    manifest = json.loads((built / "manifest.json").read_text())
    assert manifest["newsletter"] == "Defence Daily" and manifest["date"] == DATE
    keys = {e["key"] for e in manifest["editions"]}
    assert keys == {"all", "superpowers+missile-defense", "military-space+nuclear-weapons"}
    assert {r["email"]: r["edition"] for r in manifest["recipients"]} == {
        "ana@example.org": "superpowers+missile-defense",
        "ben@example.org": "military-space+nuclear-weapons",
        "chen@example.org": "all"}
    assert [f["status"] for f in manifest["feeds"]] == ["ok", "ok", "ok"]
    assert len(manifest["articles"]) >= 28
    for ed in manifest["editions"]:
        html = (built / ed["html"]).read_text()
        assert (built / ed["text"]).is_file()
        assert ed["html_bytes"] == len(html.encode()) < 102 * 1024
    assert (built / "index.html").is_file()


def test_html_is_a_full_inline_styled_document(built: Path) -> None:
    html = (built / "editions" / "all.html").read_text()
    assert html.startswith("<!doctype html>")
    assert re.search(r'<html[^>]* lang="en"', html) and "</html>" in html
    assert '<meta name="viewport"' in html
    # Content elements carry their style inline (premailer), not only a class.
    assert re.search(r'<h2 class="section"[^>]* style="[^"]*color:', html)
    assert re.search(r'<a href="https://[^"]+" class="headline-link" style="[^"]*"', html)
    # Responsive rules stay in a <style> block for phones, with !important intact.
    assert re.search(r"@media only screen and \(max-width: ?479px\)[^}]*\{[^}]*!important", html)
    # Nothing remote but links and images: no stylesheet, font, script or import.
    assert not re.search(r"<link[^>]+stylesheet|<script|@import|fonts\.googleapis", html, re.I)
    for placeholder in ("%%DIGEST_",):
        assert placeholder not in html


def test_text_part_holds_every_headline(built: Path) -> None:
    manifest = json.loads((built / "manifest.json").read_text())
    text = (built / "editions" / "all.txt").read_text()
    html = (built / "editions" / "all.html").read_text()
    all_ids = set(next(e for e in manifest["editions"] if e["key"] == "all")["articles"])
    for a in manifest["articles"]:
        if a["id"] in all_ids:
            assert " ".join(a["title"].split()[:4]) in " ".join(text.split()), a["title"]
            assert a["url"] in text
    assert all(len(line) <= 76 or line.split()[-1].startswith("http") or " " not in line.strip()
               for line in text.splitlines()), "text part is wrapped at 76 columns"
    assert "&amp;" not in text and "<p" not in text
    assert "Launch & recovery" in text and "Launch &amp; recovery" in html


def test_rebuild_of_the_same_date_is_identical(sample: Path, built: Path) -> None:
    before = {p.name: p.read_bytes() for p in (built / "editions").iterdir()}
    manifest = json.loads((built / "manifest.json").read_text())
    code, out1, _ = run(sample, "build", "--date", DATE, "--offline", "--stdout", "--to", "ana@example.org")
    assert code == 0
    after = {p.name: p.read_bytes() for p in (built / "editions").iterdir()}
    assert before == after
    again = json.loads((built / "manifest.json").read_text())
    assert {**again, "built_at": None} == {**manifest, "built_at": None, "feeds": again["feeds"]}
    code, out2, _ = run(sample, "build", "--date", DATE, "--offline", "--stdout", "--to", "ana@example.org")
    assert out1 == out2  # same Message-ID, same bytes


def test_nothing_repeats_the_next_day(sample: Path, built: Path) -> None:
    code, _, err = run(sample, "build", "--date", "2025-07-05", "--offline")
    assert code == 0
    assert "nothing new" in err
    assert not (sample.parent / "outbox" / "2025-07-05" / "manifest.json").exists()


def test_rebuild_flag_rebuilds_from_current_articles(sample: Path, built: Path) -> None:
    code, _, err = run(sample, "build", "--date", DATE, "--offline", "--rebuild")
    assert code == 0, err
    assert "3 editions" in err


def test_stdout_message_is_multipart_alternative(sample: Path, built: Path) -> None:
    code, out, _ = run(sample, "build", "--date", DATE, "--offline", "--stdout", "--to", "ana@example.org")
    assert code == 0
    assert all(len(line) <= 998 for line in out.split(b"\r\n"))
    msg = email.message_from_bytes(out, policy=email.policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    for header in ("From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe",
                   "List-Unsubscribe-Post", "Reply-To"):
        assert msg[header], header
    assert msg["To"] == "Ana <ana@example.org>"
    assert msg["Subject"].startswith("Defence Daily, Friday 4 July 2025: ")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<https://example\.org/unsubscribe\?e=ana@example\.org&t=[0-9a-f]{32}>, "
                        r"<mailto:unsubscribe@example\.org\?subject=unsubscribe%20ana@example\.org>",
                        msg["List-Unsubscribe"])
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Good morning, Ana." in text and "Good morning, Ana." in html
    assert "ana@example.org" in html and "%%DIGEST_" not in html + text


def test_unknown_reader_gets_the_all_topics_edition(sample: Path, built: Path) -> None:
    code, out, _ = run(sample, "build", "--date", DATE, "--offline", "--stdout", "--to", "you@example.org")
    assert code == 0
    msg = email.message_from_bytes(out, policy=email.policy.default)
    assert msg["To"] == "you@example.org"
    assert msg["X-Digest-Edition"] == f"{DATE} all"


def test_mbox_holds_one_message_per_reader(sample: Path, built: Path, tmp_path: Path) -> None:
    code, out, _ = run(sample, "build", "--date", DATE, "--offline", "--stdout", "--format", "mbox")
    assert code == 0
    (tmp_path / "day.mbox").write_bytes(out)
    box = mailbox.mbox(tmp_path / "day.mbox")
    assert sorted(m["To"] for m in box) == [
        "Ana <ana@example.org>", "Ben <ben@example.org>", "Chen <chen@example.org>"]
    assert all(m.is_multipart() for m in box)


def test_eml_files_per_recipient(sample: Path) -> None:
    code, _, _ = run(sample, "build", "--date", DATE, "--eml")
    assert code == 0
    files = sorted(p.name for p in (sample.parent / "outbox" / DATE / "messages").iterdir())
    assert files == ["ana@example.org.eml", "ben@example.org.eml", "chen@example.org.eml"]


def test_wrong_config_key_exits_2_and_writes_nothing(sample: Path) -> None:
    sample.write_text(sample.read_text().replace("lead_words = 60", "lead_wrds = 60"))
    code, out, err = run(sample, "build")
    assert code == 2
    assert "Error: digest.toml: digest.lead_wrds: unknown key" in err
    assert not (sample.parent / "outbox").exists() and not (sample.parent / "digest.sqlite").exists()


def test_every_feed_failing_exits_1(sample: Path) -> None:
    for f in (sample.parent / "digest" / "samples").iterdir():
        f.write_text("this is not a feed")
    code, _, err = run(sample, "build", "--date", DATE)
    assert code == 1
    assert "0 feeds ok, 3 failed" in err


def test_one_broken_feed_does_not_stop_the_build(sample: Path) -> None:
    (sample.parent / "digest" / "samples" / "orbital-wire.atom").unlink()
    code, _, err = run(sample, "build", "--date", DATE)
    assert code == 0, err
    assert "2 feeds ok, 1 failed (orbital-wire: cannot read" in err
    manifest = json.loads((sample.parent / "outbox" / DATE / "manifest.json").read_text())
    assert [f["status"] for f in manifest["feeds"]] == ["ok", "error", "ok"]


def test_init_writes_a_starter_that_builds(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["init", str(tmp_path / "news")])
    assert result.exit_code == 0
    code, _, err = run(tmp_path / "news" / "digest.toml", "build")
    assert code == 0, err
    again = CliRunner().invoke(main, ["init", str(tmp_path / "news")])
    assert again.exit_code == 2 and "exists already" in again.stderr


def test_config_option_after_the_command(sample: Path) -> None:
    result = CliRunner().invoke(main, ["build", "--config", str(sample), "--date", DATE, "-q"])
    assert result.exit_code == 0 and result.stderr == ""
