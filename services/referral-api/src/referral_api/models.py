"""Every table of referral-api's database, registered in one place.

Each feature keeps its tables in its own `models.py`; this module imports every one of them by
name, so `Base.metadata` holds the whole schema whichever code ran first. Alembic
(`migrations/referral/env.py`) and the app factory (`main.py`) import it. A new table is added
here; `tests/schemas/test_models_registry.py` fails when a module defining a table is missing.
"""

from referral_api.audit import audit_event
from referral_api.careplans.models import CarePlan
from referral_api.consent.models import ConsentRecord, PersonConsent
from referral_api.db import Base
from referral_api.export.models import ExportJob, ExportPart
from referral_api.geography.models import LookupLoad, PostcodeLsoa, PracticePcn
from referral_api.gp_messages.models import GpMessage
from referral_api.imports.models import ImportRun
from referral_api.lifecycle.models import (
    Assessment,
    AssessmentScore,
    Contact,
    ContactWorker,
    ReferralLifecycle,
    ReferralTask,
    SharedDecision,
    SupportOffered,
)
from referral_api.linkage.models import ReferralLink
from referral_api.messages.models import HeldMessage, ProcessedMessage
from referral_api.people.models import PersonIdentifier, ReferralPerson
from referral_api.quality.models import ReferralGap
from referral_api.referrals.models import Referral, ReferralIdentifier, ReferralReason
from referral_api.reports.models import (
    ListSize,
    LsoaImd,
    ReportActivity,
    ReportActivityTotal,
    ReportChange,
    ReportCode,
    ReportKey,
    ReportPerson,
    ReportQuality,
    ReportQualityDay,
    ReportQualityMonth,
    ReportReason,
    ReportReasonMonth,
    ReportReasonPair,
    ReportReasonPairMonth,
    ReportReasonPeopleMonth,
    ReportReasonWaitMonth,
    ReportReferral,
    ReportReferralMonth,
    ReportScore,
    ReportServiceUse,
    ReportServiceUseMonth,
    ReportServiceUseReason,
    ReportState,
    ReportSupport,
    ReportSupportMonth,
    ReportUnmapped,
    ReportWaitMonth,
)
from referral_api.service_use.models import ServiceUse
from referral_api.terminology.models import SnomedConcept, SnomedConceptGroup, SnomedIsA

__all__ = [
    "Assessment",
    "AssessmentScore",
    "Base",
    "CarePlan",
    "ConsentRecord",
    "Contact",
    "ContactWorker",
    "ExportJob",
    "ExportPart",
    "GpMessage",
    "HeldMessage",
    "ImportRun",
    "ListSize",
    "LookupLoad",
    "LsoaImd",
    "PersonConsent",
    "PersonIdentifier",
    "PostcodeLsoa",
    "PracticePcn",
    "ProcessedMessage",
    "Referral",
    "ReferralGap",
    "ReferralIdentifier",
    "ReferralLifecycle",
    "ReferralLink",
    "ReferralPerson",
    "ReferralReason",
    "ReferralTask",
    "ReportActivity",
    "ReportActivityTotal",
    "ReportChange",
    "ReportCode",
    "ReportKey",
    "ReportPerson",
    "ReportQuality",
    "ReportQualityDay",
    "ReportQualityMonth",
    "ReportReason",
    "ReportReasonMonth",
    "ReportReasonPair",
    "ReportReasonPairMonth",
    "ReportReasonPeopleMonth",
    "ReportReasonWaitMonth",
    "ReportReferral",
    "ReportReferralMonth",
    "ReportScore",
    "ReportServiceUse",
    "ReportServiceUseMonth",
    "ReportServiceUseReason",
    "ReportState",
    "ReportSupport",
    "ReportSupportMonth",
    "ReportUnmapped",
    "ReportWaitMonth",
    "ServiceUse",
    "SharedDecision",
    "SnomedConcept",
    "SnomedConceptGroup",
    "SnomedIsA",
    "SupportOffered",
    "audit_event",
]
