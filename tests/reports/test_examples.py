"""The reports' OpenAPI examples are what the reports answer today, on both backends."""

import json

from tests.support.report_examples import EXAMPLES_FILE, capture, example_dataset, render


async def test_the_committed_report_examples_match_the_reports(load, client):
    await load(example_dataset())

    captured = render(await capture(client))

    committed = EXAMPLES_FILE.read_text(encoding="utf-8")
    assert json.loads(captured).keys() == json.loads(committed).keys()
    assert captured == committed, (
        "a report's output changed: run `python -m tests.support.report_examples`, then "
        "`make openapi`, and commit both"
    )
