"""Referral lifecycle and message ingestion.

Messages processed (idempotency) and held; the person per referral (minimum dataset with LSOA);
postcode and practice lookups; lifecycle Tasks with support offered, contacts, assessments with
item scores, the derived lifecycle summary; links between referrals of one person; import runs.
The referral gains its source system, the sender timestamp of its content and the normalised
source-of-referral group; each reason gains its group. Existing rows get their groups filled.

Revision ID: dfc12d7dd6ee
Revises: 8fe0f343e96d
Create Date: 2026-11-22 15:10:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "dfc12d7dd6ee"
down_revision: str | None = "8fe0f343e96d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The data this revision writes, kept in the revision itself: a migration must not read package
# code, which moves on after it. Copied from signpost_schemas.codes (referral-reasons,
# source-of-referral) and the synthetic sample of signpost_schemas.geography.
_SNOMED = "http://snomed.info/sct"
_LOCAL_REASON = "https://signpost.nhs.example/CodeSystem/referral-reason"
_LOCAL_SOURCE = "https://signpost.nhs.example/CodeSystem/source-of-referral"
_MHSDS_SOURCE = (
    "https://www.datadictionary.nhs.uk/data_elements/source_of_referral_for_mental_health"
)

# The referral reasons' groups: (system, group) -> codes.
_REASON_GROUPS: dict[tuple[str, str], tuple[str, ...]] = {
    (_SNOMED, "finance"): ("160932005", "1184702004"),
    (_SNOMED, "food"): ("733423003",),
    (_SNOMED, "isolation-loneliness"): ("422650009", "423315002", "267076002"),
    (_SNOMED, "employment"): ("73438004", "741062008"),
    (_SNOMED, "housing"): ("105531004", "32911000", "1156191002"),
    (_SNOMED, "transport"): ("713458007",),
    (_SNOMED, "mental-wellbeing"): ("73595000",),
    (_SNOMED, "safety"): ("706893006",),
    (_SNOMED, "carer"): ("224484003",),
    (_LOCAL_REASON, "general-wellbeing"): ("general-wellbeing",),
    (_LOCAL_REASON, "mental-wellbeing"): ("mental-wellbeing", "low-mood", "bereavement"),
    (_LOCAL_REASON, "physical-activity"): ("physical-inactivity",),
    (_LOCAL_REASON, "finance"): ("benefits-advice",),
    (_LOCAL_REASON, "form-filling"): ("form-filling-support",),
    (_LOCAL_REASON, "other"): ("digital-exclusion", "other"),
    (_LOCAL_REASON, "isolation-loneliness"): (
        "community-activities-awareness",
        "lack-of-social-support",
    ),
    (_LOCAL_REASON, "carer"): ("carer-strain",),
    (_LOCAL_REASON, "safety"): ("personal-safety-concern",),
    (_LOCAL_REASON, "not-recorded"): ("reason-not-recorded",),
}

# The sources of referral's groups: (system, group) -> codes.
_SOURCE_GROUPS: dict[tuple[str, str], tuple[str, ...]] = {
    (_SNOMED, "primary-care"): (
        "108161000000109",
        "276491000",
        "185369008",
        "185366001",
        "185359002",
    ),
    (_SNOMED, "other"): ("185362004", "309014007", "1066021000000105", "185370009"),
    (_SNOMED, "community-health"): (
        "1077191000000103",
        "1052681000000105",
        "185361006",
        "835221000000101",
        "185363009",
        "1065401000000101",
    ),
    (_SNOMED, "mental-health"): ("1077201000000101",),
    (_SNOMED, "acute-hospital"): ("312357002", "185360007"),
    (_SNOMED, "local-authority"): ("185365002",),
    (_SNOMED, "carer-family"): ("1065391000000104", "185373006"),
    (_SNOMED, "self"): (
        "1991000124105",
        "310434002",
        "507291000000100",
        "183690008",
        "1036481000000106",
    ),
    (_LOCAL_SOURCE, "community-health"): ("community-health-service",),
    (_LOCAL_SOURCE, "primary-care"): ("gp-practice", "dental-practice"),
    (_LOCAL_SOURCE, "self"): ("self-referral",),
    (_LOCAL_SOURCE, "acute-hospital"): ("acute-hospital", "social-welfare-screening"),
    (_LOCAL_SOURCE, "unknown"): ("not-known",),
    (_LOCAL_SOURCE, "local-authority"): ("local-authority-social-services", "housing-service"),
    (_LOCAL_SOURCE, "care-home-hospice"): ("care-home", "hospice"),
    (_LOCAL_SOURCE, "carer-family"): ("carer-relative",),
    (_LOCAL_SOURCE, "urgent-emergency-care"): ("ambulance-service", "emergency-care-department"),
    (_LOCAL_SOURCE, "independent-sector"): ("independent-sector",),
    (_LOCAL_SOURCE, "voluntary-sector"): ("voluntary-sector",),
    (_LOCAL_SOURCE, "mental-health"): ("mental-health-service",),
    (_LOCAL_SOURCE, "personalised-care"): ("personalised-care-role",),
    (_LOCAL_SOURCE, "other"): ("other",),
    (_LOCAL_SOURCE, "not-recorded"): ("not-recorded",),
    (_MHSDS_SOURCE, "primary-care"): ("A1", "A3", "A4"),
    (_MHSDS_SOURCE, "community-health"): ("A2", "F1", "F3"),
    (_MHSDS_SOURCE, "self"): ("B1",),
    (_MHSDS_SOURCE, "carer-family"): ("B2",),
    (_MHSDS_SOURCE, "local-authority"): ("C1", "C3"),
    (_MHSDS_SOURCE, "education"): ("C2",),
    (_MHSDS_SOURCE, "employer"): ("D1", "D2"),
    (_MHSDS_SOURCE, "justice"): ("E1", "E2", "E3", "E4", "E5", "E6"),
    (_MHSDS_SOURCE, "acute-hospital"): ("F2", "H2"),
    (_MHSDS_SOURCE, "independent-sector"): ("G1", "G2", "G3"),
    (_MHSDS_SOURCE, "voluntary-sector"): ("G4",),
    (_MHSDS_SOURCE, "urgent-emergency-care"): ("H1",),
    (_MHSDS_SOURCE, "mental-health"): ("I1", "I2", "N1", "N2", "N4", "P1", "Q1", "N3", "Q2"),
    (_MHSDS_SOURCE, "other"): ("M1", "M2", "M3", "M4", "M5", "M6", "M7", "M8", "M9"),
}

# The synthetic sample postcode lookup: (postcode, LSOA 2021, local authority).
_SAMPLE_POSTCODES: tuple[tuple[str, str, str], ...] = (
    ("E15 1DA", "E01033011", "E09000025"),
    ("E15 4HT", "E01033048", "E09000025"),
    ("E13 9AX", "E01033085", "E09000025"),
    ("E13 0AB", "E01033122", "E09000025"),
    ("E6 1HR", "E01033159", "E09000025"),
    ("E6 6AW", "E01033196", "E09000025"),
    ("E7 9NJ", "E01033233", "E09000025"),
    ("E7 0DH", "E01033270", "E09000025"),
    ("E16 1AU", "E01033307", "E09000025"),
    ("E16 2RD", "E01033344", "E09000025"),
    ("E12 6AA", "E01033381", "E09000025"),
    ("E12 5JN", "E01033418", "E09000025"),
    ("E14 5AB", "E01032455", "E09000030"),
    ("E1 6AN", "E01032492", "E09000030"),
    ("E3 4AA", "E01032529", "E09000030"),
    ("E2 9PJ", "E01032566", "E09000030"),
    ("E8 1DY", "E01001603", "E09000012"),
    ("N16 0AA", "E01001640", "E09000012"),
    ("E9 6PB", "E01001677", "E09000012"),
    ("E17 4QX", "E01004714", "E09000031"),
    ("E10 5NP", "E01004751", "E09000031"),
    ("E11 1HL", "E01004788", "E09000031"),
    ("IG1 1BA", "E01003825", "E09000026"),
    ("IG3 8XB", "E01003862", "E09000026"),
    ("IG11 7PB", "E01000899", "E09000002"),
    ("RM9 4NA", "E01000936", "E09000002"),
    ("RM10 8TX", "E01000973", "E09000002"),
    ("SE10 9GB", "E01001010", "E09000011"),
    ("SE18 6HQ", "E01001047", "E09000011"),
    ("N1 9GU", "E01002084", "E09000019"),
    ("N7 6PA", "E01002121", "E09000019"),
    ("NW1 2DB", "E01000158", "E09000007"),
    ("SW9 8UE", "E01003195", "E09000022"),
    ("SE11 5HL", "E01003232", "E09000022"),
    ("SE15 5JT", "E01004269", "E09000028"),
    ("SE1 7PB", "E01004306", "E09000028"),
)


def upgrade() -> None:
    op.create_table(
        "import_run",
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_format", sa.String(length=8), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("rows_failed", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("file_sha256", name=op.f("pk_import_run")),
    )
    op.create_table(
        "lookup_load",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lookup", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("is_sample", sa.Boolean(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lookup_load")),
    )
    op.create_table(
        "postcode_lsoa",
        sa.Column("postcode", sa.String(length=8), nullable=False),
        sa.Column("lsoa_code", sa.String(length=9), nullable=False),
        sa.Column("lsoa_vintage", sa.String(length=4), nullable=False),
        sa.Column("local_authority_code", sa.String(length=9), nullable=True),
        sa.PrimaryKeyConstraint("postcode", name=op.f("pk_postcode_lsoa")),
    )
    op.create_table(
        "practice_pcn",
        sa.Column("practice_ods", sa.String(length=10), nullable=False),
        sa.Column("pcn_ods", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("practice_ods", name=op.f("pk_practice_pcn")),
    )
    op.create_table(
        "processed_message",
        sa.Column("bundle_id", sa.String(length=64), nullable=False),
        sa.Column("header_id", sa.String(length=64), nullable=True),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=8), nullable=False),
        sa.Column("source_system", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("referral_id", sa.String(length=36), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("bundle_id", name=op.f("pk_processed_message")),
    )
    op.create_index(op.f("ix_processed_message_referral_id"), "processed_message", ["referral_id"])
    op.create_table(
        "assessment",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("instrument", sa.String(length=16), nullable=False),
        sa.Column("timepoint", sa.String(length=16), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("total_score", sa.Float(), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name=op.f("fk_assessment_referral_id_referral"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment")),
        sa.UniqueConstraint(
            "referral_id", "source_id", name=op.f("uq_assessment_referral_id_source_id")
        ),
    )
    op.create_index("ix_assessment_instrument_timepoint", "assessment", ["instrument", "timepoint"])
    op.create_table(
        "contact",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("contact_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mechanism_system", sa.String(length=255), nullable=False),
        sa.Column("mechanism_code", sa.String(length=8), nullable=False),
        sa.Column("mechanism_group", sa.String(length=24), nullable=False),
        sa.Column("attendance_code", sa.String(length=2), nullable=False),
        sa.Column("attendance_outcome", sa.String(length=24), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name=op.f("fk_contact_referral_id_referral"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact")),
        sa.UniqueConstraint(
            "referral_id", "source_id", name=op.f("uq_contact_referral_id_source_id")
        ),
    )
    op.create_index("ix_contact_referral_id_contact_at", "contact", ["referral_id", "contact_at"])
    op.create_table(
        "held_message",
        sa.Column("bundle_id", sa.String(length=64), nullable=False),
        sa.Column("identifier_system", sa.String(length=255), nullable=False),
        sa.Column("identifier_value", sa.String(length=255), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bundle_id"],
            ["processed_message.bundle_id"],
            name=op.f("fk_held_message_bundle_id_processed_message"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("bundle_id", name=op.f("pk_held_message")),
    )
    op.create_index(
        "ix_held_message_identifier", "held_message", ["identifier_system", "identifier_value"]
    )
    op.create_table(
        "referral_lifecycle",
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sender_status", sa.String(length=20), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("declined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decline_reason_system", sa.String(length=255), nullable=True),
        sa.Column("decline_reason_code", sa.String(length=64), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closure_reason_code", sa.String(length=64), nullable=True),
        sa.Column("closure_outcome", sa.String(length=32), nullable=True),
        sa.Column("first_contact_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("contact_count", sa.Integer(), nullable=False),
        sa.Column("dna_count", sa.Integer(), nullable=False),
        sa.Column("support_offered_count", sa.Integer(), nullable=False),
        sa.Column("onward_referral_count", sa.Integer(), nullable=False),
        sa.Column("assessment_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name=op.f("fk_referral_lifecycle_referral_id_referral"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_referral_lifecycle")),
    )
    op.create_index(op.f("ix_referral_lifecycle_closed_at"), "referral_lifecycle", ["closed_at"])
    op.create_index(op.f("ix_referral_lifecycle_status"), "referral_lifecycle", ["status"])
    op.create_table(
        "referral_link",
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("linked_referral_id", sa.String(length=36), nullable=False),
        sa.Column("link_type", sa.String(length=24), nullable=False),
        sa.Column("nhs_number", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["linked_referral_id"],
            ["referral.id"],
            name=op.f("fk_referral_link_linked_referral_id_referral"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name=op.f("fk_referral_link_referral_id_referral"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("referral_id", "linked_referral_id", name=op.f("pk_referral_link")),
    )
    op.create_index(op.f("ix_referral_link_nhs_number"), "referral_link", ["nhs_number"])
    op.create_table(
        "referral_person",
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("nhs_number", sa.String(length=10), nullable=False),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("age_band", sa.String(length=8), nullable=True),
        sa.Column("gender", sa.String(length=16), nullable=True),
        sa.Column("stated_gender_code", sa.String(length=2), nullable=True),
        sa.Column("gender_identity_code", sa.String(length=2), nullable=True),
        sa.Column("gender_native_system", sa.String(length=255), nullable=True),
        sa.Column("gender_native_code", sa.String(length=64), nullable=True),
        sa.Column("ethnic_category", sa.String(length=2), nullable=True),
        sa.Column("ethnic_group", sa.String(length=32), nullable=True),
        sa.Column("ethnic_native_system", sa.String(length=255), nullable=True),
        sa.Column("ethnic_native_code", sa.String(length=64), nullable=True),
        sa.Column("postcode_district", sa.String(length=4), nullable=True),
        sa.Column("lsoa_code", sa.String(length=9), nullable=True),
        sa.Column("lsoa_vintage", sa.String(length=4), nullable=True),
        sa.Column("lsoa_status", sa.String(length=24), nullable=False),
        sa.Column("practice_ods", sa.String(length=10), nullable=True),
        sa.Column("pcn_ods", sa.String(length=10), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name=op.f("fk_referral_person_referral_id_referral"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_referral_person")),
    )
    op.create_index(op.f("ix_referral_person_lsoa_code"), "referral_person", ["lsoa_code"])
    op.create_index(op.f("ix_referral_person_nhs_number"), "referral_person", ["nhs_number"])
    op.create_index(op.f("ix_referral_person_practice_ods"), "referral_person", ["practice_ods"])
    op.create_table(
        "referral_task",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("lifecycle_state", sa.String(length=16), nullable=True),
        sa.Column("reason_system", sa.String(length=255), nullable=True),
        sa.Column("reason_code", sa.String(length=64), nullable=True),
        sa.Column("closure_outcome", sa.String(length=32), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name=op.f("fk_referral_task_referral_id_referral"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_task")),
        sa.UniqueConstraint(
            "referral_id", "source_id", name=op.f("uq_referral_task_referral_id_source_id")
        ),
    )
    op.create_table(
        "assessment_score",
        sa.Column("assessment_id", sa.String(length=36), nullable=False),
        sa.Column("item_code", sa.String(length=48), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("value_text", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessment.id"],
            name=op.f("fk_assessment_score_assessment_id_assessment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("assessment_id", "item_code", name=op.f("pk_assessment_score")),
    )
    op.create_table(
        "support_offered",
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("support_code", sa.String(length=64), nullable=False),
        sa.Column("support_group", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("directory_service_id", sa.String(length=36), nullable=True),
        sa.Column("directory_service_name", sa.String(length=255), nullable=True),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name=op.f("fk_support_offered_referral_id_referral"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["referral_task.id"],
            name=op.f("fk_support_offered_task_id_referral_task"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", "position", name=op.f("pk_support_offered")),
    )
    op.create_index(
        op.f("ix_support_offered_directory_service_id"), "support_offered", ["directory_service_id"]
    )
    op.create_index(op.f("ix_support_offered_referral_id"), "support_offered", ["referral_id"])
    op.add_column(
        "referral", sa.Column("source_of_referral_group", sa.String(length=32), nullable=True)
    )
    op.add_column(
        "referral",
        sa.Column("source_system", sa.String(length=16), server_default="api", nullable=False),
    )
    op.add_column(
        "referral", sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("referral_reason", sa.Column("reason_group", sa.String(length=32), nullable=True))
    _fill_groups()
    _load_sample_postcodes()


def _load_sample_postcodes() -> None:
    """Start with the shipped synthetic sample so `make run` derives LSOAs; a deployment
    replaces it with the full ONS file (`python -m referral_api.geography.load`)."""
    rows = [
        {
            "postcode": postcode,
            "lsoa_code": lsoa_code,
            "lsoa_vintage": "2021",
            "local_authority_code": local_authority_code,
        }
        for postcode, lsoa_code, local_authority_code in _SAMPLE_POSTCODES
    ]
    postcode_lsoa = sa.table(
        "postcode_lsoa",
        sa.column("postcode"),
        sa.column("lsoa_code"),
        sa.column("lsoa_vintage"),
        sa.column("local_authority_code"),
    )
    op.bulk_insert(postcode_lsoa, rows)
    lookup_load = sa.table(
        "lookup_load",
        sa.column("lookup"),
        sa.column("source"),
        sa.column("is_sample", sa.Boolean()),
        sa.column("row_count"),
        sa.column("loaded_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(
        lookup_load,
        [
            {
                "lookup": "postcode-lsoa",
                "source": "signpost_schemas sample (synthetic)",
                "is_sample": True,
                "row_count": len(rows),
                "loaded_at": datetime.now(UTC),
            }
        ],
    )


def _fill_groups() -> None:
    """Give referrals stored before this revision their reason and source groups."""
    for (system, group), reason_codes in _REASON_GROUPS.items():
        for code in reason_codes:
            op.execute(
                sa.text(
                    "UPDATE referral_reason SET reason_group = :group "
                    "WHERE reason_system = :system AND reason_code = :code "
                    "AND reason_group IS NULL"
                ).bindparams(group=group, system=system, code=code)
            )
    for (system, group), source_codes in _SOURCE_GROUPS.items():
        for code in source_codes:
            op.execute(
                sa.text(
                    "UPDATE referral SET source_of_referral_group = :group "
                    "WHERE source_of_referral_system = :system AND source_of_referral_code = :code "
                    "AND source_of_referral_group IS NULL"
                ).bindparams(group=group, system=system, code=code)
            )


def downgrade() -> None:
    with op.batch_alter_table("referral_reason") as batch:
        batch.drop_column("reason_group")
    with op.batch_alter_table("referral") as batch:
        batch.drop_column("source_updated_at")
        batch.drop_column("source_system")
        batch.drop_column("source_of_referral_group")
    op.drop_table("support_offered")
    op.drop_table("assessment_score")
    op.drop_table("referral_task")
    op.drop_table("referral_person")
    op.drop_table("referral_link")
    op.drop_table("referral_lifecycle")
    op.drop_table("held_message")
    op.drop_table("contact")
    op.drop_table("assessment")
    op.drop_table("processed_message")
    op.drop_table("practice_pcn")
    op.drop_table("postcode_lsoa")
    op.drop_table("lookup_load")
    op.drop_table("import_run")
