"""screening-api's OpenAPI examples are what it answers today, on both backends: the synthetic
screen of `tests.support.screening_examples` run again gives the committed examples, ids, instants
and dates aside."""

import json

import httpx

from tests.support.captured_examples import comparable
from tests.support.screening_examples import BASE_URL, EXAMPLES_FILE, capture


async def test_the_committed_examples_are_what_screening_api_answers(screening_app):
    transport = httpx.ASGITransport(app=screening_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        captured = await capture(client)

    committed = json.loads(EXAMPLES_FILE.read_text(encoding="utf-8"))
    assert captured.keys() == committed.keys()
    assert comparable(captured) == comparable(committed), (
        "what screening-api answers changed: run `python -m tests.support.screening_examples`, "
        "then `make openapi`, and commit both"
    )
