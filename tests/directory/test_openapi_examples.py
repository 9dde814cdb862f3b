"""directory-api's OpenAPI examples are what it answers today, on both backends: the journey of
`tests.support.directory_examples` run again on a fresh directory gives the committed examples,
ids, instants and dates aside."""

import json

from directory_api.main import create_app
from tests.support.captured_examples import comparable
from tests.support.clients import running
from tests.support.databases import drop_database, migrated_database
from tests.support.directory_examples import BASE_URL, EXAMPLES_FILE, capture, settings

# Which services count as unassured depends on today's date: only its shape is compared.
DATED = "unassuredServices"


async def test_the_committed_examples_are_what_directory_api_answers(backend, session_tmp):
    url = await migrated_database(backend, session_tmp, "directory")
    try:
        async with running(create_app(settings(url)), BASE_URL) as client:
            captured = await capture(client)
    finally:
        await drop_database(url)

    committed = json.loads(EXAMPLES_FILE.read_text(encoding="utf-8"))
    assert captured.keys() == committed.keys()
    assert captured[DATED]["responses"]["200"].keys() == committed[DATED]["responses"]["200"].keys()
    del captured[DATED], committed[DATED]
    assert comparable(captured) == comparable(committed), (
        "what directory-api answers changed: run `python -m tests.support.directory_examples`, "
        "then `make openapi`, and commit both"
    )
