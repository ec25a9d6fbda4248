"""The labelled lead set: accuracy on real feed items (tests/leads_report.py prints the detail)."""

import leads_report
import pytest


@pytest.fixture(scope="module")
def results():
    if not leads_report.CORPUS.is_dir():
        pytest.skip(f"feed corpus not found at {leads_report.CORPUS}")
    return leads_report.evaluate()


def test_labelled_set_is_big_enough(results):
    assert len(results) >= 80


def test_lead_accuracy(results):
    ok = sum(r.lead_ok for r in results)
    failed = [r.case.id for r in results if not r.lead_ok]
    assert ok / len(results) >= 0.95, failed


def test_dateline_accuracy(results):
    ok = sum(r.dateline_ok for r in results)
    failed = [r.case.id for r in results if not r.dateline_ok]
    assert ok / len(results) >= 0.95, failed


def test_no_boilerplate_at_all(results):
    assert [r.case.id for r in results if r.boilerplate] == []


def test_always_within_budget(results):
    assert [r.case.id for r in results if not r.budget_ok] == []


def test_handmade_items_need_no_corpus():
    # These carry their own text, so they run even where the corpus is absent.
    for case in leads_report.load_cases(include_corpus=False):
        r = leads_report.check(case)
        assert (r.lead_ok, r.dateline_ok, r.boilerplate) == (True, True, False), case.id
