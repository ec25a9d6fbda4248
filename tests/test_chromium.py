"""Each sample edition in headless Chromium at phone and desktop width: no overflow, every headline visible.

Screenshots go to tests/artifacts/ (git-ignored) for a human to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from digest import app, message
from digest import config as config_mod

from . import browser, emails

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = pytest.mark.skipif(browser.chromium() is None,
                                reason="chromium is absent (CI installs the Debian package)")


def _pages(sample: Path, folder: Path) -> list[str]:
    """The sample day's editions as web pages, plus an edition with thumbnails and long words."""
    cfg = config_mod.load(sample)
    day = app.build(cfg, now=emails.NOW).day
    names = []
    for key in day.plan.editions:
        html, _ = message.personalise(day.edition(key),
                                      message.reader_values(cfg, day.secret, None))
        (folder / f"{key}.html").write_text(html, encoding="utf-8")
        names.append(f"{key}.html")
    from digest.render import Renderer
    ed = emails.edition({"superpowers": [
        emails.story(1, image=True, also=3),
        emails.story(2, title="Supercalifragilisticexpialidocious" * 3,
                     url="https://example.org/" + "x" * 300),
        emails.story(3, image=True)]}, more={"superpowers": [emails.story(4)]})
    (folder / "thumbnails.html").write_text(Renderer(cfg).render(ed).html, encoding="utf-8")
    return [*names, "thumbnails.html"]


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> tuple[Path, list[str]]:
    base = tmp_path_factory.mktemp("chromium")
    import shutil
    repo = Path(__file__).resolve().parent.parent
    shutil.copy(repo / "config.example.toml", base / "digest.toml")
    shutil.copytree(repo / "digest" / "samples", base / "digest" / "samples")
    folder = base / "pages"
    folder.mkdir()
    return folder, _pages(base / "digest.toml", folder)


@pytest.mark.parametrize("width", [320, 375, 600])
def test_no_overflow_and_every_headline_visible(pages, width):
    folder, names = pages
    for name in names:
        result = browser.measure(folder, name, width)
        assert result["width"] == width, result
        assert result["scrollWidth"] <= width, (name, result)
        assert result["headlines"] > 3 and result["hidden"] == [], (name, result)


@pytest.mark.parametrize("width", [375, 600])
def test_screenshots(pages, width):
    folder, names = pages
    for name in names:
        out = browser.screenshot(folder, name, ARTIFACTS / f"{Path(name).stem}-{width}.png",
                                 width, 3000)
        assert out.stat().st_size > 10_000
