"""referral-api's audit trail: every read and change of a referral or its lifecycle resources."""

from referral_api.db import Base
from signpost_platform.audit import AuditTrail, audit_table

audit_event = audit_table(Base.metadata)
trail = AuditTrail(audit_event)
