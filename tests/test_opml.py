"""OPML import and export, and `digest feeds` on the command line."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest import cli, opml
from digest import config as config_mod
from digest.errors import UsageError

OPML = b"""<?xml version="1.0"?>
<opml version="2.0"><head><title>Mine</title></head><body>
  <outline text="Space &amp; Defence">
    <outline type="rss" text="SpaceWar" xmlUrl="https://www.spacewar.com/spacewar.xml"/>
    <outline text="Launches">
      <outline type="rss" title="Orbital" text="ignored" xmlUrl="https://orbital.example.org/feed"
               category="/Tech/Rockets,Science"/>
    </outline>
  </outline>
  <outline type="rss" text="Loose" xmlUrl="https://loose.example.org/rss"/>
  <outline type="rss" text="Again" xmlUrl="https://loose.example.org/rss" category="Extra"/>
  <outline type="rss" text="Bad" xmlUrl="gopher://old.example.org/"/>
</body></opml>
"""


def test_read_outlines_folders_and_categories() -> None:
    assert opml.read(OPML) == [
        opml.Subscription("https://www.spacewar.com/spacewar.xml", "SpaceWar", ("Space & Defence",)),
        opml.Subscription("https://orbital.example.org/feed", "Orbital", ("Launches", "Rockets", "Science")),
        opml.Subscription("https://loose.example.org/rss", "Loose", ("Extra",)),
        opml.Subscription("gopher://old.example.org/", "Bad", ()),
    ]


@pytest.mark.parametrize(("data", "error"), [
    (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
     b"<opml><body>&lol2;</body></opml>",
     "x.opml: a DTD is not allowed in OPML (it could expand entities without limit)"),
    (b"<opml><body>", "x.opml: not valid XML: no element found: line 1, column 12"),
    (b"<rss><channel/></rss>", "x.opml: not OPML (expected <opml><body>, found <rss>)"),
], ids=["billion-laughs", "truncated", "not-opml"])
def test_read_refuses(data: bytes, error: str) -> None:
    with pytest.raises(UsageError) as e:
        opml.read(data, "x.opml")
    assert str(e.value) == error


def test_import_prints_blocks_that_load(sample: Path, tmp_path: Path) -> None:
    (tmp_path / "subs.opml").write_bytes(OPML)
    before = sample.read_text()
    result = CliRunner().invoke(cli.main, ["--config", str(sample), "feeds", "import",
                                           str(tmp_path / "subs.opml")])
    assert result.exit_code == 0, result.output
    assert sample.read_text() == before
    blocks = tomllib.loads(result.stdout)
    assert [f["id"] for f in blocks["feeds"]] == ["spacewar-2", "orbital", "loose"]
    assert blocks["feeds"][1]["topics"] == ["launches", "rockets", "science"]
    assert [t["id"] for t in blocks["topics"]] == ["space-defence", "launches", "rockets", "science", "extra"]
    assert "# Skipped gopher://old.example.org/: not an http(s) URL or a file path" in result.stdout


def test_import_write_appends_only(sample: Path, tmp_path: Path) -> None:
    (tmp_path / "subs.opml").write_bytes(OPML)
    before = sample.read_text()
    runner = CliRunner()
    result = runner.invoke(cli.main, ["feeds", "import", str(tmp_path / "subs.opml"), "--write",
                                      "--config", str(sample)])
    assert result.exit_code == 0, result.output
    after = sample.read_text()
    assert after.startswith(before)
    config = config_mod.load(sample)
    assert len(config.feeds) == 6 and len(config.topics) == 9
    # A second import finds nothing new and leaves the file alone.
    again = runner.invoke(cli.main, ["feeds", "import", str(tmp_path / "subs.opml"), "--write",
                                     "--config", str(sample)])
    assert again.exit_code == 0 and sample.read_text() == after


def test_open_topic_is_not_narrowed_by_an_import(sample: Path, tmp_path: Path) -> None:
    # The sample's topics take every feed; a feed filed under "Superpowers" must not
    # make that topic its own.
    (tmp_path / "s.opml").write_bytes(b'<opml><body><outline text="Superpowers"><outline '
                                      b'xmlUrl="https://new.example.org/rss" text="New"/></outline></body></opml>')
    result = CliRunner().invoke(cli.main, ["--config", str(sample), "feeds", "import", str(tmp_path / "s.opml")])
    feed = tomllib.loads(result.stdout)["feeds"][0]
    assert "topics" not in feed and "topics" not in tomllib.loads(result.stdout)


def test_export_round_trips(sample: Path, tmp_path: Path) -> None:
    text = sample.read_text().replace('id = "strategic-review"', 'id = "strategic-review"\ntopics = ["superpowers"]')
    sample.write_text(text)
    result = CliRunner().invoke(cli.main, ["--config", str(sample), "feeds", "export"])
    assert result.exit_code == 0, result.output
    subs = opml.read(result.stdout.encode())
    config = config_mod.load(sample)
    assert {s.url for s in subs} == {f.url for f in config.feeds}
    assert next(s for s in subs if s.url.endswith("strategic-review.xml")).topics == ("Superpowers",)


def test_feeds_check_table(sample: Path) -> None:
    runner = CliRunner()
    fresh = runner.invoke(cli.main, ["--config", str(sample), "feeds", "check"])
    assert fresh.exit_code == 0
    assert fresh.stdout.splitlines()[1].split()[:2] == ["spacewar", "never"]
    assert runner.invoke(cli.main, ["--config", str(sample), "collect"]).exit_code == 0
    lines = runner.invoke(cli.main, ["--config", str(sample), "feeds", "check"]).stdout.splitlines()
    assert lines[0].split() == ["feed", "status", "last", "ok", "failures", "error", "url"]
    assert [ln.split()[:2] for ln in lines[1:]] == [["spacewar", "ok"], ["orbital-wire", "ok"],
                                                    ["strategic-review", "ok"]]
