"""The exception family. Library code raises these; only cli.py prints and exits."""

from __future__ import annotations


class DigestError(Exception):
    """A failure the user can act on; `exit_code` is what the CLI exits with."""

    exit_code = 1


class ConfigError(DigestError):
    """The config is wrong. Carries every problem found, one per line."""

    exit_code = 2

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class UsageError(DigestError):
    exit_code = 2


class LockedError(DigestError):
    """Another run holds the store."""


class RenderError(DigestError):
    """A template or the MJML compiler failed."""


class DeliveryError(DigestError):
    """The SMTP relay could not be reached or refused us."""
