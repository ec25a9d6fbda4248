"""Every built-in template's output is valid MJML by the reference implementation.

MRML (behind mjml-python) does not validate: unknown tags and bad attribute
values pass silently. The npm package `mjml` does, with `--validate strict`.
Install it with `npm install --no-save --prefix . mjml` (or point $MJML_BIN at it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from digest.render import Renderer

from . import emails

REPO = Path(__file__).resolve().parent.parent


def mjml_bin() -> str | None:
    for candidate in (os.environ.get("MJML_BIN"), shutil.which("mjml"),
                      str(REPO / "node_modules" / ".bin" / "mjml")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


needs_mjml = pytest.mark.skipif(
    mjml_bin() is None,
    reason="the reference mjml binary is absent: `npm install --no-save --prefix . mjml` "
           "or set MJML_BIN (CI installs it)")


def _validate(source: str, tmp_path: Path) -> subprocess.CompletedProcess:
    path = tmp_path / "email.mjml"
    path.write_text(source, encoding="utf-8")
    return subprocess.run([mjml_bin(), "--validate", "strict", str(path), "-s"],
                          capture_output=True, text=True, timeout=120)


EDITIONS = {
    "sample-day": emails.sample_edition,
    "one-story": lambda: emails.edition({"superpowers": [emails.story(1)]}),
    "headlines-only": lambda: emails.edition({"superpowers": []},
                                             more={"superpowers": [emails.story(1), emails.story(2)]}),
    "hostile-text": lambda: emails.edition({"superpowers": [emails.story(
        1, title='<mj-raw>"&</mj-text> \x00', lead="</mjml> <script>x</script> &amp;", also=1)]}),
}


@needs_mjml
@pytest.mark.parametrize("name", list(EDITIONS))
@pytest.mark.parametrize("logo", [False, True], ids=["no-logo", "logo"])
def test_builtin_template_output_is_valid_mjml(sample: Path, tmp_path: Path, name, logo):
    if logo:
        sample.write_text(sample.read_text().replace(
            "show_images = true", 'show_images = true\nlogo_url = "https://example.org/logo.png"'))
    source = Renderer(emails.config(sample)).mjml_source(EDITIONS[name]())
    result = _validate(source, tmp_path)
    assert result.returncode == 0, result.stderr


@needs_mjml
def test_the_validator_does_catch_errors(tmp_path: Path):
    bad = "<mjml><mj-body><mj-section><mj-text bogus=\"1\">x</mj-text></mj-section></mj-body></mjml>"
    result = _validate(bad, tmp_path)
    assert result.returncode != 0 and "illegal" in result.stderr
