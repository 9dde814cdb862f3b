"""Service-use counts: how often the person used a service in a period before or after a
referral.

One row per (referral, measure, period): a newer count replaces the held one (the sender's
timestamp, then the content hash, as for the lifecycle resources), and a count sent again
unchanged changes nothing, whether it came as an Observation or from a loaded extract.
"""

from datetime import date

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.db import Base
from referral_api.lifecycle.models import SenderVersion


class ServiceUse(SenderVersion, Base):
    """A count of GP appointments, A&E attendances or emergency admissions in a period."""

    __tablename__ = "service_use"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referral.id", ondelete="CASCADE"))
    # gp-appointments | ae-attendances | emergency-admissions (the service-use code list)
    measure: Mapped[str] = mapped_column(String(32))
    # before | after: the period against the referral date.
    period: Mapped[str] = mapped_column(String(8))
    period_start_on: Mapped[date] = mapped_column(Date)
    period_end_on: Mapped[date] = mapped_column(Date)
    count: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))
    # observation (POST /fhir/Observation) | message ($process-message) | extract (a CSV file)
    origin: Mapped[str] = mapped_column(String(12))
    # The sender's Observation id, when it sent one.
    source_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("referral_id", "measure", "period"),)
