"""The date checks (a date given as a number is refused, a dateTime must fit in UTC) run for
exactly the models that declare a date or dateTime: every one of them has them, whichever module
declares it, and the elements holding no date (a Coding, a Reference) do without the call."""

import json
import subprocess
import sys
from datetime import date, datetime

import pytest
from pydantic import AwareDatetime, ValidationError

from signpost_schemas.fhir.base import FhirModel
from signpost_schemas.fhir.datatypes import Coding

# Runs in a fresh interpreter that imports every module of the schemas and the services.
_MODELS = """
import importlib, json, pkgutil
from signpost_schemas.fhir.base import FhirModel, _temporal_fields

for package_name in ("signpost_schemas", "referral_api", "directory_api", "screening_api"):
    package = importlib.import_module(package_name)
    for module in pkgutil.walk_packages(package.__path__, f"{package_name}."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)

def below(model):
    for sub in model.__subclasses__():
        yield sub
        yield from below(sub)

def checked(model):
    # Ahead of the model's own validators, as when every model inherited them.
    validators = list(model.__pydantic_decorators__.model_validators)
    return validators[:2] == ["_dates_are_text", "_dates_fit_in_utc"]

models = set(below(FhirModel))
print(json.dumps({
    "models": len(models),
    "dated": sorted(f"{m.__module__}.{m.__qualname__}" for m in models if _temporal_fields(m)),
    "checked": sorted(f"{m.__module__}.{m.__qualname__}" for m in models if checked(m)),
}))
"""


def test_every_model_with_a_date_has_the_checks_and_no_other_model_does() -> None:
    run = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", _MODELS], capture_output=True, text=True, check=True
    )
    found = json.loads(run.stdout)

    assert found["checked"] == found["dated"]
    # ServiceRequest has validators of its own: the date checks still run ahead of them.
    # Both ways round, over models of every kind: resources, elements and the services' own.
    assert "signpost_schemas.fhir.service_request.ServiceRequest" in found["dated"]
    assert "signpost_schemas.fhir.datatypes.Meta" in found["dated"]
    assert "signpost_schemas.fhir.datatypes.Coding" not in found["checked"]
    assert len(found["checked"]) < found["models"]


class _Held(FhirModel):
    code: Coding | None = None


class _Dated(_Held):
    """A date added below a model that holds none."""

    day: date | None = None
    at: AwareDatetime | None = None


class _DatedBelow(_Dated):
    """Below a model with dates: it keeps the checks it inherits."""

    more: list[date] | None = None


@pytest.mark.parametrize("model", [_Dated, _DatedBelow])
@pytest.mark.parametrize("value", [1790000000, 1790000000.5, "1790000000"])
def test_a_date_given_as_a_number_is_refused_in_a_model_declaring_it_below_one_without(
    model: type[FhirModel], value: object
) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate({"day": value})

    assert refused.value.errors()[0]["type"] == "datetime_type"
    assert refused.value.errors()[0]["ctx"]["element"] == "day"


def test_a_date_list_given_numbers_is_refused_in_the_model_below() -> None:
    with pytest.raises(ValidationError) as refused:
        _DatedBelow.model_validate({"more": ["2026-10-01", 20261001]})

    assert refused.value.errors()[0]["ctx"]["element"] == "more"


def test_a_datetime_outside_utc_is_refused_and_a_good_one_read() -> None:
    with pytest.raises(ValidationError) as refused:
        _DatedBelow.model_validate({"at": "0001-01-01T00:30:00+01:00"})

    assert refused.value.errors()[0]["ctx"]["element"] == "at"
    read = _DatedBelow.model_validate({"day": "2026-10-01", "at": "2026-10-01T09:00:00+01:00"})
    assert read.day == date(2026, 10, 1)
    assert read.at == datetime.fromisoformat("2026-10-01T08:00:00+00:00")


def test_a_model_holding_a_date_the_checks_cannot_see_is_refused_as_it_is_made() -> None:
    with pytest.raises(TypeError, match="holds a date but has no date checks"):

        class _Hidden(FhirModel):
            day: "date | None" = None  # a string annotation: resolved by Pydantic alone
