"""The request examples of README.md and the docs run as tests, so the documentation cannot drift.

Every example marked `<!-- example: <service> <METHOD> <path> <status> -->` is sent, as the
documentation writes it (body, headers, the token it mints), to the real in-process service on
SQLite and on PostgreSQL, and must answer the status the documentation states. A marker whose
example cannot be found fails, and so does an inline request body that no marker names.
"""

import json

import pytest

from tests.corpus.conftest import Stack
from tests.docs.examples import DOCUMENTS, ROOT, Example, examples, unmarked_request_bodies
from tests.support.clients import bearer

EXAMPLES = examples()


def test_the_documented_examples_are_marked() -> None:
    marked = {(e.document, e.method, e.path) for e in EXAMPLES}
    assert {
        ("README.md", "POST", "/fhir/ServiceRequest"),
        ("docs/integrator-guide.md", "POST", "/fhir/ServiceRequest"),
        ("docs/screening.md", "POST", "/fhir/QuestionnaireResponse"),
    } <= marked


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_inline_request_body_is_a_marked_example(document: str) -> None:
    markdown = (ROOT / document).read_text(encoding="utf-8")
    assert unmarked_request_bodies(document, markdown) == []


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
async def test_documented_example(stack: Stack, example: Example) -> None:
    assert example.problem is None, f"{example.name}: {example.problem}"
    headers = {**example.headers, **bearer(*example.scopes, ods=example.ods)}
    content = None
    if example.body is not None:
        headers.setdefault("Content-Type", "application/fhir+json")
        content = json.dumps(example.body).encode()
    target = example.path + (f"?{example.query}" if example.query else "")

    response = await stack.client(example.service).request(
        example.method, target, content=content, headers=headers
    )

    assert response.status_code == example.status, (
        f"{example.name}: the documentation says {example.status}, the service answered "
        f"{response.status_code}: {response.text[:800]}"
    )
