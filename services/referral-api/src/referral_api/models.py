"""Every table of referral-api, registered in one place for Alembic (`migrations/referral/env.py`).

Importing this module imports the `models` module of every feature package, so the metadata
Alembic compares against the database is complete whichever packages exist.
"""

import importlib
import pkgutil

import referral_api


def _import_feature_models() -> list[str]:
    names = [
        module.name
        for module in pkgutil.walk_packages(referral_api.__path__, "referral_api.")
        if module.name.endswith(".models") and module.name != __name__
    ]
    for name in names:
        importlib.import_module(name)
    return names


FEATURE_MODELS = _import_feature_models()
importlib.import_module("referral_api.audit")
