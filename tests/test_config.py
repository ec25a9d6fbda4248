"""Config loading: every problem named by file and key; nothing written when wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest import config
from digest.errors import ConfigError

GOOD = """
[digest]
name = "Defence Daily"
from = "Defence Daily <news@example.org>"
site_url = "https://example.org"
unsubscribe = "https://example.org/u?e={email}"

[[feeds]]
url = "feeds/a.xml"

[[feeds]]
id = "wire"
url = "https://wire.example.com/rss"
topics = ["space"]

[[topics]]
id = "space"
title = "Military Space"
keywords = ["satellite"]

[[topics]]
id = "nukes"

[[subscribers]]
email = "ana@example.org"
name = "Ana"
topics = ["nukes", "space"]

[[subscribers]]
email = "ben@example.org"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "digest.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_config_is_resolved_and_typed(tmp_path: Path) -> None:
    c = config.load(write(tmp_path, GOOD))
    assert c.name == "Defence Daily"
    assert c.feeds[0].url == str(tmp_path / "feeds" / "a.xml")  # relative to the config file
    assert c.feeds[0].id == "a"
    assert c.outbox == tmp_path / "outbox" and c.state == tmp_path / "digest.sqlite"
    assert c.topics[1].title == "Nukes"
    # Sections follow config order, whatever order the reader listed.
    assert c.subscribers[0].topics == ("space", "nukes")
    assert c.subscribers[1].topics == ("space", "nukes")  # absent = all
    assert c.window_hours == 24 and c.lead_words == 60


@pytest.mark.parametrize(("edit", "expected"), [
    pytest.param(("[digest]", "[digest]\ncolour = 1"),
                 "digest.toml: digest.colour: unknown key (expected one of: ", id="unknown-key"),
    pytest.param(('name = "Defence Daily"', "name = 42"),
                 "digest.toml: digest.name: expected a string, got 42", id="wrong-type"),
    pytest.param(('url = "https://wire.example.com/rss"', "url = 42"),
                 "digest.toml: feeds[1].url: expected an http(s) URL or a file path, got 42", id="feed-url-type"),
    pytest.param(('url = "https://wire.example.com/rss"', 'url = "ftp://x.example.com/rss"'),
                 "digest.toml: feeds[1].url: expected an http(s) URL or a file path, got 'ftp://x.example.com/rss'",
                 id="feed-url-scheme"),
    pytest.param(('email = "ben@example.org"', 'email = "ben.example.org"'),
                 "digest.toml: subscribers[1].email: expected an email address, got 'ben.example.org'",
                 id="bad-email"),
    pytest.param(('topics = ["nukes", "space"]', 'topics = ["nukes", "spaec"]'),
                 "digest.toml: subscribers[0].topics: names unknown topic 'spaec' (known: space, nukes)",
                 id="unknown-topic"),
    pytest.param(('id = "nukes"', 'id = "space"'),
                 "digest.toml: topics[1].id: topic id 'space' is used twice", id="duplicate-topic"),
    pytest.param(('site_url = "https://example.org"', 'site_url = "example.org"'),
                 "digest.toml: digest.site_url: expected an http(s) URL, got 'example.org'", id="bad-site-url"),
    pytest.param(('from = "Defence Daily <news@example.org>"', 'from = "Defence Daily"'),
                 "digest.toml: digest.from: expected an address like 'Name <news@example.org>', got 'Defence Daily'",
                 id="bad-from"),
    pytest.param(('[digest]', '[digest]\nwindow_hours = true'),
                 "digest.toml: digest.window_hours: expected a number, got True", id="bool-for-number"),
    pytest.param(('[digest]', '[digest]\ntimezone = "Mars/Olympus"'),
                 "digest.toml: digest.timezone: expected an IANA time zone such as 'Europe/Paris', got 'Mars/Olympus'",
                 id="bad-timezone"),
    pytest.param(('topics = ["space"]', 'topics = ["spaec"]'),
                 "digest.toml: feeds[1].topics: names unknown topic 'spaec'", id="feed-unknown-topic"),
])
def test_bad_config_names_file_key_and_expectation(tmp_path: Path, edit: tuple[str, str], expected: str) -> None:
    old, new = edit
    assert old in GOOD
    with pytest.raises(ConfigError) as e:
        config.load(write(tmp_path, GOOD.replace(old, new, 1)))
    assert any(p.startswith(expected) for p in e.value.problems), e.value.problems
    assert e.value.exit_code == 2


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = GOOD.replace("name = 42", "").replace('name = "Defence Daily"', "name = 42") \
        .replace('email = "ben@example.org"', 'email = "nope"')
    with pytest.raises(ConfigError) as e:
        config.load(write(tmp_path, text))
    assert len(e.value.problems) == 2


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        config.load(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(write(tmp_path, "[digest\n"))


def test_subscribers_csv(tmp_path: Path) -> None:
    (tmp_path / "readers.csv").write_text(
        "email,name,topics\ncara@example.org,Cara,nukes\ndan@example.org,,\nbad,,\n", encoding="utf-8")
    text = GOOD.replace("[digest]", '[digest]\nsubscribers_file = "readers.csv"')
    with pytest.raises(ConfigError) as e:
        config.load(write(tmp_path, text))
    assert e.value.problems == [
        "digest.toml: readers.csv line 4.email: expected an email address, got 'bad'"]
    (tmp_path / "readers.csv").write_text(
        "email,name,topics\ncara@example.org,Cara,nukes\ndan@example.org,,\n", encoding="utf-8")
    c = config.load(write(tmp_path, text))
    assert [(s.email, s.topics) for s in c.subscribers[2:]] == [
        ("cara@example.org", ("nukes",)), ("dan@example.org", ("space", "nukes"))]


def test_config_is_found_by_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, GOOD)
    monkeypatch.setenv("DIGEST_CONFIG", str(path))
    assert config.find(None) == path
    assert config.find("other.toml") == Path("other.toml")


def test_starter_config_is_valid(tmp_path: Path) -> None:
    samples = Path(config.__file__).parent / "samples"
    c = config.load(write(tmp_path, config.starter(samples)))
    assert all(Path(f.url).is_file() for f in c.feeds)


def test_example_config_is_valid() -> None:
    c = config.load(Path(__file__).parent.parent / "config.example.toml")
    assert len(c.feeds) >= 3 and len(c.topics) == 4 and len(c.subscribers) >= 2
