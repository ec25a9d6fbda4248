"""SpamAssassin scores the sample messages below 2.0 (skipped only when it is not installed)."""

from __future__ import annotations

import pytest

from . import spamcheck


@pytest.mark.skipif(spamcheck.spamassassin() is None,
                    reason="spamassassin is absent (Debian package `spamassassin`; local check)")
def test_sample_messages_score_below_threshold():
    messages = spamcheck.sample_messages()
    assert len(messages) == 3
    for name, raw in messages.items():
        points, report = spamcheck.score(raw)
        assert points < spamcheck.THRESHOLD, f"{name}: {points}\n{report}"
