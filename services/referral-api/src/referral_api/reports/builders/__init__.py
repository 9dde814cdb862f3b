"""The reports, one module each: its spec (name, title, options, dimensions) and its builder.

A new report is a module here and a line below (the order of `GET /reports`)."""

from referral_api.reports.builders import (
    attendance,
    closure_reasons,
    completeness,
    data_quality_by_sender,
    outcomes,
    rates,
    re_referrals,
    reason_pairs,
    reasons,
    referrals,
    service_use,
    support,
    support_match,
    waiting_times,
    wellbeing_change,
    worker_activity,
)
from referral_api.reports.builders.common import ReportSpec

REPORTS: dict[str, ReportSpec] = {
    spec.name: spec
    for spec in (
        referrals.SPEC,
        reasons.SPEC,
        reason_pairs.SPEC,
        support.SPEC,
        support_match.SPEC,
        waiting_times.SPEC,
        attendance.SPEC,
        outcomes.SPEC,
        closure_reasons.SPEC,
        rates.SPEC,
        wellbeing_change.SPEC,
        service_use.SPEC,
        re_referrals.SPEC,
        completeness.SPEC,
        data_quality_by_sender.SPEC,
        worker_activity.SPEC,
    )
}
