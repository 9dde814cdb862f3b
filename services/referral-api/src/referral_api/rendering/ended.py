"""Has the referral ended: one definition, in Python and in SQL.

A referral ends when it is closed, declined or cancelled; it ended at the first of these its
lifecycle summary holds (in this order: a summary holds at most one of them, derived from the
newest Task). Linkage (a re-referral is one made after the earlier referral ended) reads the SQL
form; message processing and the lifecycle summary the Python one. Both are built from `ENDED_BY`,
and tests/referral/rendering/test_ended.py checks they agree on both databases.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func

from referral_api.lifecycle.models import ReferralLifecycle

# The lifecycle summary's columns that say a referral ended, the first one set wins.
ENDED_BY = ("closed_at", "declined_at", "cancelled_at")


def ended_at(summary: Mapping[str, Any] | None) -> datetime | None:
    """When the referral of this lifecycle summary ended, if it did (None before its first
    summary)."""
    if summary is None:
        return None
    return next((summary[column] for column in ENDED_BY if summary[column] is not None), None)


def ended_at_column() -> ColumnElement[datetime | None]:
    """`ended_at` in SQL, over `referral_lifecycle`."""
    return func.coalesce(*(getattr(ReferralLifecycle, column) for column in ENDED_BY))
