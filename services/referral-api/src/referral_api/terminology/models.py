"""The loaded SNOMED CT release: its active concepts, is-a links and the groups they imply."""

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.db import Base


class SnomedConcept(Base):
    """An active concept of the loaded release, with its fully specified name."""

    __tablename__ = "snomed_concept"

    concept_id: Mapped[str] = mapped_column(String(18), primary_key=True)
    # The fully specified name (or, without one, the first active synonym).
    term: Mapped[str | None] = mapped_column(String(255))


class SnomedIsA(Base):
    """An active |is a| (116680003) relationship: `child_id` is a kind of `parent_id`."""

    __tablename__ = "snomed_is_a"

    child_id: Mapped[str] = mapped_column(String(18), primary_key=True)
    parent_id: Mapped[str] = mapped_column(String(18), primary_key=True)

    __table_args__ = (Index("ix_snomed_is_a_parent_id", "parent_id"),)


class SnomedConceptGroup(Base):
    """The group a concept outside a shipped code list takes from its nearest mapped ancestor.

    Computed when a release is loaded, for each code list that groups SNOMED CT concepts
    (referral-reasons, source-of-referral, support-offered). `via_concept_id` is the mapped
    ancestor the group came from, `distance` the number of is-a steps to it.
    """

    __tablename__ = "snomed_concept_group"

    concept_id: Mapped[str] = mapped_column(String(18), primary_key=True)
    code_list: Mapped[str] = mapped_column(String(32), primary_key=True)
    concept_group: Mapped[str] = mapped_column(String(32))
    via_concept_id: Mapped[str] = mapped_column(String(18))
    distance: Mapped[int]
