"""Caseload, contacts and DNAs per worker.

Its spec (`SPEC`: name, title, options, as `GET /reports` lists them) and its builder.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.reports import workers
from referral_api.reports.builders.attendance import with_due
from referral_api.reports.builders.common import (
    Context,
    ReportSpec,
    blank,
    make_report,
    order_key,
)
from referral_api.reports.dimensions import column_name
from referral_api.reports.query import ReportQuery
from referral_api.reports.tables import Column, Report, count, percentage
from referral_api.reports.workers_repository import WorkerRepository


async def workers_report(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """Per worker (and role): the caseload (referrals they hold or had a contact on), their
    contacts in the period by attendance outcome, and their DNA rate."""
    repository = WorkerRepository(session)
    counted, total = await repository.counts(query)
    rows = [with_due(row) for row in counted]
    roles = workers.DIMENSIONS["role"]
    for row in rows:
        if "role" in query.group_by:
            row["role_label"] = roles.label(row["role"])
    rows.sort(key=order_key(query.group_by, workers.DIMENSIONS))
    columns = [
        Column(column_name(name), workers.DIMENSIONS[name].description, "dimension")
        for name in query.group_by
    ]
    if "role" in query.group_by:
        columns.insert(query.group_by.index("role") + 1, Column("role_label", "Role", "label"))
    # A referral or contact can be in several workers' rows: no breakdown adds up to the total.
    counts = [
        count("caseload", "Caseload: referrals held or seen", additive=False),
        count("contacts", "Contacts", additive=False),
        count("attended", "Attended", additive=False),
        count("dna", "Did not attend", additive=False),
        count("not_seen", "Arrived late, not seen", additive=False),
        count("appointments_due", "Appointments due", additive=False),
        percentage("dna_rate", "DNA rate %", "dna", "appointments_due"),
    ]
    return make_report(
        "Per worker (by staff identifier) and role: the caseload, contacts and DNA rate in "
        "the period.",
        [*columns, *counts],
        rows,
        [{**blank(query.group_by), **with_due(total)}],
        [
            "Workers are named by their senders' staff identifiers (Encounter.participant, "
            "Task.owner); no names are kept. from and to select contacts by their date, and "
            "referrals held (Task owner) while open at some time in the period.",
            "Caseload: the distinct referrals a worker holds as the owner of the referral's "
            "Task or had a contact on. A contact with two workers counts for each, and once "
            "in the total; contacts entered in error are left out. DNA rate = did not attend "
            "/ (attended + did not attend + arrived too late to be seen).",
            "A worker's role is the personalised-care role given on the contact, else the "
            "role the referral was made to.",
        ],
        chart_measure="contacts",
    )


SPEC = ReportSpec(
    "workers",
    "Activity by worker",
    "Per worker (the sender's staff identifier; no names) and role: caseload (referrals "
    "held or seen), contacts by attendance outcome and the DNA rate, by contact date.",
    workers_report,
    default_group_by=workers.DEFAULT_GROUP_BY,
    dimensions=workers.DIMENSIONS,
    period=workers.PERIOD,
)
