"""The workers report's vocabulary: its dimensions and period.

A worker is a member of staff named by the sender's staff identifier (`system|value`), from a
contact's participants (`contact_worker`) or a referral Task's owner (`referral_task.owner_*`);
no names are kept (`signpost_schemas.fhir.worker`). Their role is the personalised-care role
the sender gave them on the contact, else the role the referral was made to.

Unlike the referral reports, `from` and `to` select activity, not referrals: the contacts dated
in the period, and the referrals held (Task owner) while open at some time in it.
"""

import re
from dataclasses import replace

from referral_api.reports.dimensions import Dimension, catalogue
from referral_api.reports.measures import CONTACT_OUTCOME_COLUMNS

# The staff identifier as system|value (a system is a URI: no spaces, no bar).
WORKER = re.compile(r"^[^\s|]+\|\S.*$")
PERIOD = "contact date"
# Contacts and Tasks entered in error count for no one.
WITHDRAWN = "entered-in-error"
# The attendance outcomes counted (appointments due, as in the attendance report), as the
# activity facts (`report_activity.outcome`) code them, and the report's column for each.
OUTCOME_CODES = {"attended": 1, "dna": 2, "not-seen": 3}
# Per grouping of the report (its group-by columns), the activity facts' 0/1 flags on the
# first row of each referral and of each contact in a group (`report_activity`): summed, they
# count each referral and contact once per group without grouping by them. Grouped by role and
# worker every row is one contact's (None).
FIRST_FLAGS: dict[frozenset[str], tuple[str, str | None]] = {
    frozenset(): ("first_of_referral", "first_of_contact"),
    frozenset({"role"}): ("first_of_referral_role", "first_of_contact_role"),
    frozenset({"worker"}): ("first_of_referral_worker", "first_of_contact_worker"),
    frozenset({"role", "worker"}): ("first_of_referral_role_worker", None),
}
OUTCOME_COLUMNS = {name: CONTACT_OUTCOME_COLUMNS[name] for name in ("attended", "dna", "not_seen")}
# The first-row flags of the activity facts (`report_activity`), in column order.
# The counts the refresh keeps of the activity facts per role, worker and attendance outcome
# over all time (`report_activity_total`; `facts_repository.ACTIVITY_COUNTS`): every row, the
# contact rows and each first-row flag. Each flag marks the first row of a referral or contact
# within a grouping, over all of that referral's activity, so its sum over any set of rows of
# whole referrals counts each once; a request over all time sums them (`workers_repository`).
ACTIVITY_FLAGS = tuple(sorted({flag for flags in FIRST_FLAGS.values() for flag in flags if flag}))
ACTIVITY_TOTAL_COUNTS = ("activities", "contacts", *ACTIVITY_FLAGS)


def dimensions() -> dict[str, Dimension]:
    role = catalogue()["role"]
    return {
        d.name: d
        for d in (
            replace(
                role,
                description="The worker's personalised-care role: the one given on the contact, "
                "else the role the referral was made to",
            ),
            Dimension(
                "worker",
                "The worker: the sender's staff identifier as system|value (no names are kept)",
                pattern=WORKER,
                expects="a staff identifier as system|value",
            ),
        )
    }


DIMENSIONS = dimensions()
DEFAULT_GROUP_BY = ("role", "worker")
