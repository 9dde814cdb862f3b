"""Every feature declares the query parameters its routes read in its `search.py`, never in its
router: one definition serves the parser, the OpenAPI document and (for FHIR searches) the
CapabilityStatement, and a reader finds them in the same place in every service."""

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[2] / "services"
# Calls that declare a query parameter.
DECLARATIONS = {"QueryParameter", "SearchParameter", "Query"}
# Left where they are, by decision: the `identifier` of a conditional create is a FastAPI
# Query in referral-api's referrals router (that package is changed with its hot path).
ALLOWED = {("referral-api/src/referral_api/referrals/router.py", "Query")}


def _declarations(path: Path) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if isinstance(node.func, ast.Attribute):
                name = node.func.attr
            if name in DECLARATIONS:
                found.append((name, node.lineno))
    return found


def test_routers_declare_no_query_parameters() -> None:
    routers = sorted(SERVICES.glob("*/src/*/**/router.py"))
    assert len(routers) > 15
    misplaced = [
        f"{path.relative_to(SERVICES)}:{line} {name}(...)"
        for path in routers
        for name, line in _declarations(path)
        if (str(path.relative_to(SERVICES)), name) not in ALLOWED
    ]
    assert misplaced == [], "declare these in the feature's search.py"


def test_the_declarations_are_found_where_they_belong() -> None:
    """The check above would pass on code it cannot read: it must see the search modules."""
    searches = sorted(SERVICES.glob("*/src/*/**/search.py"))
    declaring = {path.parent.name for path in searches if _declarations(path)}
    assert {"services", "fhir", "taxonomy", "changes", "referrals", "observations"} <= declaring
