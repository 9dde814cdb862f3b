"""Each service registers its tables one way: its `models` module names every table module.

Alembic's env and the app factory import `<service>_api.models` and nothing else, so a table
defined in a module that `models.py` does not import would be missing from autogenerate and
from the ORM registry until some other code happened to import it.
"""

import json
import subprocess
import sys

import pytest

# Runs in a fresh interpreter: nothing else has imported a table module yet.
_TABLES = """
import importlib, json, pkgutil, sys
from sqlalchemy import Table

package_name = sys.argv[1]
models = importlib.import_module(f"{package_name}.models")
metadata = models.Base.metadata
registered = sorted(metadata.tables)
exported = set()
for name in models.__all__:
    value = getattr(models, name)
    table = value if isinstance(value, Table) else getattr(value, "__table__", None)
    if isinstance(table, Table):
        exported.add(table.name)
exported = sorted(exported)
package = importlib.import_module(package_name)
for module in pkgutil.walk_packages(package.__path__, f"{package_name}."):
    if not module.name.endswith("__main__"):
        importlib.import_module(module.name)
print(json.dumps({"registered": registered, "exported": exported, "all": sorted(metadata.tables)}))
"""


@pytest.mark.parametrize("service", ["referral", "directory", "screening"])
def test_the_models_module_registers_and_names_every_table(service: str) -> None:
    run = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", _TABLES, f"{service}_api"],
        capture_output=True,
        text=True,
        check=True,
    )
    tables = json.loads(run.stdout)
    # Importing every module of the service adds no table the models module left out...
    assert tables["registered"] == tables["all"]
    # ...and every table is one of the names the models module exports.
    assert tables["exported"] == tables["all"]
    assert tables["all"]
