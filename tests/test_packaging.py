"""The wheel ships the templates and sample feeds; the README documents every command."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import click

from digest.cli import main

REPO = Path(__file__).resolve().parent.parent


def test_wheel_contains_templates_and_samples(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                    "-q", "-w", str(tmp_path), str(REPO)], check=True)
    (wheel,) = tmp_path.glob("digest-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for template in (REPO / "templates").iterdir():
        if template.suffix in (".mjml", ".txt", ".css", ".html"):
            assert f"digest/templates/{template.name}" in names
    for feed in (REPO / "digest" / "samples").iterdir():
        assert f"digest/samples/{feed.name}" in names


def _commands(group: click.Group, prefix: str = "digest") -> list[str]:
    out = []
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            out += _commands(cmd, f"{prefix} {name}")
        else:
            out.append(f"{prefix} {name}")
    return out


def test_every_command_is_in_the_readme_and_has_an_example() -> None:
    readme = (REPO / "README.md").read_text()
    for command in _commands(main):
        assert f"`{command}" in readme, f"README does not document `{command}`"
    for name, cmd in main.commands.items():
        assert "Example" in (cmd.help or ""), f"`digest {name} --help` has no example"


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    command = "python -m pip install -e '.[test]' && python -m pytest"
    assert command in readme and command in ci
