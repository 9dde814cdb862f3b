"""Every table of screening-api's database, registered in one place.

Each feature keeps its tables in its own `models.py`; this module imports every one of them by
name, so `Base.metadata` holds the whole schema whichever code ran first. Alembic
(`migrations/screening/env.py`) and the app factory (`main.py`) import it. A new table is added
here; `tests/schemas/test_models_registry.py` fails when a module defining a table is missing.
"""

from screening_api.audit import audit_event
from screening_api.db import Base
from screening_api.handoff.models import ReferralHandoff
from screening_api.invitations.models import InvitationRecord
from screening_api.observations.models import ObservationRecord
from screening_api.responses.models import ResponseAnswerRecord, ResponseRecord

__all__ = [
    "Base",
    "InvitationRecord",
    "ObservationRecord",
    "ReferralHandoff",
    "ResponseAnswerRecord",
    "ResponseRecord",
    "audit_event",
]
