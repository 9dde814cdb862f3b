"""Every table of screening-api, imported together so Alembic sees the whole schema."""

from screening_api.audit import audit_event
from screening_api.handoff.models import ReferralHandoff
from screening_api.invitations.models import InvitationRecord
from screening_api.observations.models import ObservationRecord
from screening_api.responses.models import ResponseAnswerRecord, ResponseRecord

__all__ = [
    "InvitationRecord",
    "ObservationRecord",
    "ReferralHandoff",
    "ResponseAnswerRecord",
    "ResponseRecord",
    "audit_event",
]
