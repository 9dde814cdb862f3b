"""What a parsed search asks the database for (signpost_platform.fhir.search.parse_search)."""

import pytest

from signpost_platform.fhir.search import page_links, parse_search


def _parsed(*pairs: tuple[str, str]):
    return parse_search(pairs, [], {}, default_count=20, max_count=100, default_sort=[])


@pytest.mark.parametrize(
    "pairs",
    [(("_summary", "count"), ("_count", "50")), (("_count", "0"),), (("_summary", "count"),)],
)
def test_a_count_alone_reads_the_one_match_that_carries_the_total(pairs):
    parsed = _parsed(*pairs)

    assert not parsed.returns_entries
    assert parsed.total
    assert parsed.rows_read == 1


def test_a_page_reads_the_page_it_links_to():
    parsed = _parsed(("_count", "50"), ("_summary", "data"))

    assert parsed.returns_entries
    assert parsed.rows_read == 50
    [link] = [
        link
        for link in page_links("http://x/fhir/R", parsed, 50, 120)
        if link["relation"] == "self"
    ]
    assert "_count=50" in link["url"]


def test_a_count_alone_keeps_the_page_size_asked_for_in_its_link():
    parsed = _parsed(("_summary", "count"), ("_count", "50"))

    [link] = page_links("http://x/fhir/R", parsed, 0, 120)
    assert link["relation"] == "self"
    assert "_count=50" in link["url"]


@pytest.mark.parametrize(
    "pairs", [(("_count", "0"),), (("_count", "0"), ("_summary", "data"))], ids=["alone", "data"]
)
def test_a_page_of_none_asks_for_the_total_alone_and_its_link_says_so(pairs):
    parsed = _parsed(*pairs)

    assert not parsed.returns_entries
    assert parsed.rows_read == 1
    [link] = page_links("http://x/fhir/R", parsed, 0, 120)
    assert "_count=0" in link["url"]  # following it asks for the count again, not a page
