"""Lifecycle tables: what each sender resource said (with its served JSON) and the summary.

Each Task, Encounter and Observation a sender sends is kept once per referral, keyed by the
sender's resource id, with the sender's timestamp (`as_of`) and a content hash: a version is
replaced only by one that is newer (or, at the same instant, has the larger hash), so replays and
reordered deliveries converge on the same state. `referral_lifecycle` is derived from these rows.
"""

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.db import Base, owner_key
from signpost_platform.db import UtcDateTime


class ReferralLifecycle(Base):
    """The state of a referral derived from its Task, contacts, support and scores."""

    __tablename__ = "referral_lifecycle"

    referral_id: Mapped[str] = owner_key("referral.id")
    # received | accepted | declined | cancelled | closed
    status: Mapped[str] = mapped_column(String(16), index=True)
    # The ServiceRequest.status the sender last sent (revoked means the referrer cancelled).
    sender_status: Mapped[str] = mapped_column(String(20))
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    declined_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decline_reason_system: Mapped[str | None] = mapped_column(String(255))
    decline_reason_code: Mapped[str | None] = mapped_column(String(64))
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    closure_reason_code: Mapped[str | None] = mapped_column(String(64))
    closure_outcome: Mapped[str | None] = mapped_column(String(32))
    # The first contact the person attended (waiting time = first_contact_at - authored_at).
    first_contact_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    contact_count: Mapped[int] = mapped_column(default=0)
    dna_count: Mapped[int] = mapped_column(default=0)
    support_offered_count: Mapped[int] = mapped_column(default=0)
    onward_referral_count: Mapped[int] = mapped_column(default=0)
    assessment_count: Mapped[int] = mapped_column(default=0)


class SenderVersion:
    """What the ordering rule compares, and the resource as served, of a sender resource."""

    as_of: Mapped[datetime] = mapped_column(UtcDateTime)
    content_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    last_updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resource: Mapped[str] = mapped_column(Text)


class SenderResource(SenderVersion):
    """A resource a sender sends about a referral, kept once per referral by the sender's id
    (`source_id`; each table's unique constraint on the pair)."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referral.id", ondelete="CASCADE"))
    source_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))


class ReferralTask(SenderResource, Base):
    """A sender's lifecycle Task of a referral, as last accepted."""

    __tablename__ = "referral_task"

    lifecycle_state: Mapped[str | None] = mapped_column(String(16))
    reason_system: Mapped[str | None] = mapped_column(String(255))
    reason_code: Mapped[str | None] = mapped_column(String(64))
    closure_outcome: Mapped[str | None] = mapped_column(String(32))
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The worker who holds the referral (Task.owner by the sender's staff identifier; no name).
    owner_system: Mapped[str | None] = mapped_column(String(255))
    owner_value: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (
        UniqueConstraint("referral_id", "source_id"),
        Index("ix_referral_task_owner", "owner_value", "owner_system"),
    )


class SupportOffered(Base):
    """One support offer or onward referral (an output of a referral Task)."""

    __tablename__ = "support_offered"

    task_id: Mapped[str] = owner_key("referral_task.id")
    position: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[str] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), index=True
    )
    support_code: Mapped[str] = mapped_column(String(64))
    # The need bucket shared with the reasons, so need and support can be matched in SQL.
    support_group: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(8))  # referral | signpost
    directory_service_id: Mapped[str | None] = mapped_column(String(36), index=True)
    directory_service_name: Mapped[str | None] = mapped_column(String(255))
    offered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # A personal health budget (support_code personal-health-budget): offered | agreed |
    # in-place, its type and its annual amount band (personal-health-budget.csv).
    budget_stage: Mapped[str | None] = mapped_column(String(16))
    budget_type: Mapped[str | None] = mapped_column(String(32))
    budget_amount_band: Mapped[str | None] = mapped_column(String(32))


class Contact(SenderResource, Base):
    """A contact (Encounter) of a referral, as last accepted."""

    __tablename__ = "contact"

    contact_at: Mapped[datetime] = mapped_column(UtcDateTime)
    mechanism_system: Mapped[str] = mapped_column(String(255))
    mechanism_code: Mapped[str] = mapped_column(String(8))
    mechanism_group: Mapped[str] = mapped_column(String(24))
    attendance_code: Mapped[str] = mapped_column(String(2))
    # attended | dna | cancelled-by-patient | cancelled-by-provider | not-seen | booked
    attendance_outcome: Mapped[str] = mapped_column(String(24))

    __table_args__ = (
        UniqueConstraint("referral_id", "source_id"),
        Index("ix_contact_referral_id_contact_at", "referral_id", "contact_at"),
    )


class ContactWorker(Base):
    """A worker who took part in a contact (Encounter.participant), by the sender's staff
    identifier: no name is kept. `role` is the personalised-care role the sender gave them, if
    any (reports fall back on the referral's role)."""

    __tablename__ = "contact_worker"

    contact_id: Mapped[str] = owner_key("contact.id")
    position: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[str] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), index=True
    )
    worker_system: Mapped[str] = mapped_column(String(255))
    worker_value: Mapped[str] = mapped_column(String(255))
    role: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_contact_worker_worker", "worker_value", "worker_system"),)


class Assessment(SenderResource, Base):
    """A wellbeing assessment (Observation) of a referral, as last accepted."""

    __tablename__ = "assessment"

    instrument: Mapped[str] = mapped_column(String(16))
    timepoint: Mapped[str] = mapped_column(String(16))
    assessed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    total_score: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (
        UniqueConstraint("referral_id", "source_id"),
        Index("ix_assessment_instrument_timepoint", "instrument", "timepoint"),
    )


class SharedDecision(SenderResource, Base):
    """A shared decision making conversation (Procedure) of a referral, as last accepted."""

    __tablename__ = "shared_decision"

    # The code kept (the local SDM code or a SNOMED CT concept id; None when sent as text) and
    # its group (sdm, unmapped or uncoded).
    code_system: Mapped[str | None] = mapped_column(String(255))
    code: Mapped[str | None] = mapped_column(String(64))
    code_group: Mapped[str] = mapped_column(String(16))
    performed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The worker who held the conversation, by the sender's staff identifier (no name).
    worker_system: Mapped[str | None] = mapped_column(String(255))
    worker_value: Mapped[str | None] = mapped_column(String(255))
    worker_role: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("referral_id", "source_id"),
        Index("ix_shared_decision_referral_id_performed_at", "referral_id", "performed_at"),
    )


class AssessmentScore(Base):
    """One item or sub-score of an assessment."""

    __tablename__ = "assessment_score"

    assessment_id: Mapped[str] = owner_key("assessment.id")
    item_code: Mapped[str] = mapped_column(String(48), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    value_text: Mapped[str | None] = mapped_column(String(16))
