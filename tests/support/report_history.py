"""One seeded synthetic referral history for the report tests, with the truth it was made from.

`history()` draws a few thousand referrals over a fixed year (`PERIOD`, plus a few just
outside it) and gives, for each, what it is (`Truth`: role, person, reasons, lifecycle,
contacts, support, scores, in the report dimensions' own terms) and how a sender sends it: one
`new` message Bundle per referral (EMIS, Rio and other API senders) or one row of the CSV
template (a team's history file). Both go in through the history import
(`referral_api.imports`), the same processing as `$process-message`, so the report facts are
made by the write path. Small cells are there on purpose: rare roles, genders, age bands,
reasons, closure reasons and outcomes.

The truth is written without Signpost code: the groups of the few codes used are spelled out
here, so a change to a code list or a mapping shows up as a difference, not as a silent
agreement. Every person is synthetic (NHS numbers from the 999 test range).

People with more than one referral are drawn as the linkage cases (another role while the
first is open, the same role again after it closed, or far apart), kept a few days away from
every linkage boundary so the expected links do not hang on a boundary rule.
"""

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import orjson

from referral_api.imports.csv_template import COLUMNS
from signpost_schemas import systems
from signpost_schemas.fhir import profiles
from tests.support import messages
from tests.support.builders import coded_extension
from tests.support.builders import reason as coded_reason
from tests.support.history import template_row
from tests.support.reports import synthetic_nhs_numbers

PERIOD = (date(2025, 4, 1), date(2026, 3, 31))
LINKAGE_WINDOW = 90  # REFERRAL_LINKAGE_WINDOW_DAYS, the default
API = {"endpoint": "https://connect.example/referrals", "software": "Connect", "name": "Connect"}
API_REFERRAL_ID = "https://connect.example/referral-id"
SOURCES = {"emis": messages.EMIS, "rio": messages.RIO, "api": API}
REFERRAL_IDS = {
    "emis": messages.EMIS_REFERRAL_ID,
    "rio": messages.RIO_REFERRAL_ID,
    "api": API_REFERRAL_ID,
}
SYSTEMS = (("emis", 45), ("rio", 20), ("api", 10), ("import", 25))
ROLES = (
    ("social-prescribing-link-worker", 34),
    ("care-coordinator", 20),
    ("health-and-wellbeing-coach", 16),
    ("care-navigator", 16),
    ("community-connector", 11),
    ("community-neighbourhood-link-worker", 3),
)
SENDERS = (("F84001", 40), ("F84002", 25), ("F84003", 20), ("RQX", 13), ("Y02345", 2))
# Age band -> (ages it is drawn from, weight).
AGE_BANDS = {
    "0-17": ((14, 17), 2),
    "18-24": ((18, 24), 6),
    "25-34": ((25, 34), 12),
    "35-44": ((35, 44), 14),
    "45-54": ((45, 54), 18),
    "55-64": ((55, 64), 18),
    "65-74": ((65, 74), 15),
    "75-84": ((75, 84), 10),
    "85+": ((85, 95), 3),
}
# Gender group -> (system, code, weight): PERSON STATED GENDER CODE or GENDER IDENTITY CODE.
GENDERS = {
    "female": (profiles.PERSON_STATED_GENDER, "2", 50),
    "male": (profiles.PERSON_STATED_GENDER, "1", 40),
    "non-binary": (profiles.GENDER_IDENTITY, "3", 2),
    "other": (profiles.GENDER_IDENTITY, "4", 1),
    "not-stated": (profiles.GENDER_IDENTITY, "Z", 2),
    "indeterminate": (profiles.PERSON_STATED_GENDER, "9", 1),
    "not-known": (profiles.PERSON_STATED_GENDER, "X", 4),
}
# Stated gender codes the CSV template takes (PERSON STATED GENDER CODE only).
TEMPLATE_GENDERS = ("female", "male", "indeterminate", "not-known")
ETHNIC_CATEGORIES = {
    "A": ("white", 35),
    "B": ("white", 3),
    "C": ("white", 8),
    "D": ("mixed", 2),
    "F": ("mixed", 1),
    "H": ("asian-or-asian-british", 8),
    "J": ("asian-or-asian-british", 6),
    "K": ("asian-or-asian-british", 9),
    "M": ("black-or-black-british", 6),
    "N": ("black-or-black-british", 7),
    "R": ("other-ethnic-group", 1),
    "S": ("other-ethnic-group", 2),
    "Z": ("not-stated", 4),
    "99": ("not-known", 4),
}
# Postcodes of the synthetic lookup: postcode -> (LSOA, IMD decile of the sample).
POSTCODES = {
    "E15 1DA": ("E01033011", "5"),
    "E15 4HT": ("E01033048", "6"),
    "E13 9AX": ("E01033085", "7"),
    "E6 1HR": ("E01033159", "9"),
    "E7 9NJ": ("E01033233", "1"),
    "E16 1AU": ("E01033307", "3"),
    "E14 5AB": ("E01032455", "1"),
    "IG11 7PB": ("E01000899", "2"),
}
# Practice -> PCN (sent in the Patient's PCN extension); F84004 has no list size loaded.
PRACTICES = (("F84001", "U00001", 40), ("F84002", "U00001", 25), ("F84003", "U00002", 25))
RARE_PRACTICE = ("F84004", "U00003")
# Source of referral per system: (system of the code, code, group, weight).
SOURCE_CODES: dict[str, tuple[tuple[str, str, str, int], ...]] = {
    "emis": (
        (systems.SNOMED, "108161000000109", "primary-care", 60),
        (systems.SNOMED, "1991000124105", "self", 10),
        (systems.SNOMED, "185365002", "local-authority", 10),
        (systems.SNOMED, "312357002", "acute-hospital", 8),
        (systems.SNOMED, "1065391000000104", "carer-family", 5),
        (systems.SNOMED, "185366001", "primary-care", 2),
        (systems.SNOMED, "22298006", "unmapped", 2),
    ),
    "rio": (
        (messages.MHSDS_SOURCE, "A1", "primary-care", 30),
        (messages.MHSDS_SOURCE, "B1", "self", 15),
        (messages.MHSDS_SOURCE, "I1", "mental-health", 30),
        (messages.MHSDS_SOURCE, "E1", "justice", 3),
        (messages.MHSDS_SOURCE, "G4", "voluntary-sector", 10),
        (messages.MHSDS_SOURCE, "M6", "other", 5),
    ),
    "api": (
        (systems.SOURCE_OF_REFERRAL, "self-referral", "self", 30),
        (systems.SOURCE_OF_REFERRAL, "voluntary-sector", "voluntary-sector", 35),
        (systems.SOURCE_OF_REFERRAL, "social-welfare-screening", "acute-hospital", 10),
        (systems.SOURCE_OF_REFERRAL, "not-known", "unknown", 15),
    ),
    "import": (
        (systems.SOURCE_OF_REFERRAL, "gp-practice", "primary-care", 30),
        (systems.SOURCE_OF_REFERRAL, "local-authority-social-services", "local-authority", 30),
        (systems.SOURCE_OF_REFERRAL, "housing-service", "local-authority", 10),
        (systems.SOURCE_OF_REFERRAL, "carer-relative", "carer-family", 5),
        (systems.SOURCE_OF_REFERRAL, "not-known", "unknown", 15),
    ),
}
NO_SOURCE_WEIGHT = 4  # per system, against the weights above: no source sent at all
# Reasons: code -> (group, weight). SNOMED ids are digits; the others are local codes.
REASONS = {
    "105531004": ("housing", 20),
    "160932005": ("finance", 16),
    "422650009": ("isolation-loneliness", 14),
    "73595000": ("mental-wellbeing", 10),
    "low-mood": ("mental-wellbeing", 10),
    "benefits-advice": ("finance", 8),
    "physical-inactivity": ("physical-activity", 8),
    "general-wellbeing": ("general-wellbeing", 8),
    "32911000": ("housing", 2),
    "706893006": ("safety", 1),
    "carer-strain": ("carer", 2),
    "713458007": ("transport", 1),
}
UNMAPPED_REASON = "22298006"  # a SNOMED CT concept no group covers (no release loaded)
UNCODED = "uncoded"  # a reason given as text only
NOT_RECORDED_REASON = "reason-not-recorded"
SUPPORT = {
    "housing-advice": ("housing", 10),
    "benefits-welfare-advice": ("finance", 10),
    "debt-advice": ("finance", 5),
    "food-bank": ("food", 4),
    "befriending-peer-support": ("isolation-loneliness", 8),
    "physical-activity": ("physical-activity", 8),
    "diet-healthy-eating": ("general-wellbeing", 16),
    "mental-health-talking-therapies": ("mental-wellbeing", 7),
    "signposting-information-only": ("other", 6),
    "carers-support": ("carer", 1),
    "transport-support": ("transport", 1),
}
CLOSURE_REASONS = (
    ("needs-met", 45),
    ("needs-partially-met", 20),
    ("unable-to-contact", 12),
    ("person-declined", 8),
    ("referred-to-more-appropriate-service", 7),
    ("moved-away", 3),
    ("died", 1),
    ("not-recorded", 2),  # sent as text only: kept, reason not recorded
)
DECLINE_REASONS = (("01", 3), ("02", 5), ("03", 2), ("person-declined", 2))
# Attendance code -> outcome.
ATTENDANCE = (
    ("5", "attended", 55),
    ("6", "attended", 5),
    ("3", "dna", 16),
    ("7", "not-seen", 3),
    ("2", "cancelled-by-patient", 10),
    ("4", "cancelled-by-provider", 6),
    ("0", "booked", 5),
)
STATUSES = (("received", 10), ("accepted", 22), ("declined", 8), ("cancelled", 4), ("closed", 56))
ONS4 = ("ons4-life-satisfaction", "ons4-worthwhile", "ons4-happiness", "ons4-anxiety")


@dataclass
class Contact:
    on: date
    code: str
    outcome: str
    live: bool = True


@dataclass
class Assessment:
    instrument: str
    timepoint: str
    on: date
    total: int | None = None
    items: dict[str, int] = field(default_factory=dict)
    live: bool = True


@dataclass
class Truth:
    """A referral as the reports should see it (None: not recorded)."""

    ident: str
    system: str
    sender: str
    role: str
    authored: date
    person: str  # the NHS number (the person key)
    patient: bool = True  # person details sent
    birth_year: int | None = None
    age_band: str | None = None
    gender: str | None = None
    ethnic_category: str | None = None
    postcode: str | None = None
    lsoa: str | None = None
    imd_decile: str | None = None
    practice: str | None = None
    pcn: str | None = None
    source_code: tuple[str, str] | None = None
    source: str = "not-recorded"
    reasons: list[tuple[str, str]] = field(default_factory=list)  # (reason, group)
    status: str = "received"
    accepted: date | None = None
    ended: date | None = None  # closed, declined or cancelled on
    ended_reason: str | None = None  # closure reason, or decline reason
    contacts: list[Contact] = field(default_factory=list)
    support: list[tuple[str, str, str]] = field(default_factory=list)  # (code, group, kind)
    assessments: list[Assessment] = field(default_factory=list)
    id: str = ""  # Signpost's id, once loaded

    @property
    def month(self) -> str:
        return self.authored.strftime("%Y-%m")

    @property
    def ethnicity(self) -> str | None:
        if self.ethnic_category is None:
            return None
        return ETHNIC_CATEGORIES[self.ethnic_category][0]


@dataclass
class History:
    referrals: list[Truth]
    messages: list[dict[str, Any]]  # NDJSON: one message Bundle per line
    template: str  # the CSV template file

    def ndjson(self) -> bytes:
        return b"".join(orjson.dumps(m) + b"\n" for m in self.messages)


def _pick(draw: random.Random, weighted: Any) -> Any:
    """One item of ((value..., weight), ...) or {value: (..., weight)} by weight."""
    if isinstance(weighted, dict):
        keys = list(weighted)
        weights = [v[-1] if isinstance(v, tuple) else v for v in weighted.values()]
        return draw.choices(keys, weights)[0]
    items = list(weighted)
    chosen = draw.choices(items, [item[-1] for item in items])[0]
    return chosen[0] if len(chosen) == 2 else chosen[:-1]


class _Drawer:
    def __init__(self, seed: int) -> None:
        self.draw = random.Random(seed)
        self.numbers = synthetic_nhs_numbers()
        self.serial = 0

    def person(self) -> dict[str, Any]:
        draw = self.draw
        band = _pick(draw, AGE_BANDS)
        low, high = AGE_BANDS[band][0]
        practice = (
            _pick(draw, PRACTICES)
            if draw.random() < 0.93
            else (RARE_PRACTICE if draw.random() < 0.5 else None)
        )
        postcode = draw.choice(list(POSTCODES)) if draw.random() < 0.75 else None
        return {
            "nhs_number": next(self.numbers),
            "birth_year": PERIOD[0].year - draw.randint(low, high),
            "gender": _pick(draw, GENDERS) if draw.random() < 0.95 else None,
            "ethnic_category": _pick(draw, ETHNIC_CATEGORIES) if draw.random() < 0.9 else None,
            "postcode": postcode if postcode or draw.random() < 0.5 else "E15",
            "practice": practice,
        }

    def referral(self, person: dict[str, Any], authored: date, role: str | None = None) -> Truth:
        draw = self.draw
        self.serial += 1
        system = _pick(draw, SYSTEMS)
        truth = Truth(
            ident=f"{system.upper()}-{self.serial:05d}",
            system=system,
            sender=_pick(draw, SENDERS),
            role=role or _pick(draw, ROLES),
            authored=authored,
            person=person["nhs_number"],
        )
        if system == "api" and draw.random() < 0.3:
            truth.patient = False  # an API sender that sends no person details
        else:
            self._details(truth, person)
        codes = SOURCE_CODES[system]
        if draw.randrange(sum(c[-1] for c in codes) + NO_SOURCE_WEIGHT) >= NO_SOURCE_WEIGHT:
            chosen = _pick(draw, codes)
            truth.source_code, truth.source = (chosen[0], chosen[1]), chosen[2]
        self._reasons(truth)
        return truth

    def _details(self, truth: Truth, person: dict[str, Any]) -> None:
        truth.birth_year = person["birth_year"]
        truth.age_band = _band(truth.authored.year - truth.birth_year)
        gender = person["gender"]
        if truth.system == "import" and gender not in TEMPLATE_GENDERS:
            gender = None
        truth.gender = gender
        truth.ethnic_category = person["ethnic_category"]
        postcode = person["postcode"]
        truth.postcode = postcode
        if postcode in POSTCODES:
            truth.lsoa, truth.imd_decile = POSTCODES[postcode]
        if person["practice"]:
            truth.practice = person["practice"][0]
            # The CSV template has no PCN column (and no practice-to-PCN lookup is loaded).
            truth.pcn = None if truth.system == "import" else person["practice"][1]

    def _reasons(self, truth: Truth) -> None:
        draw = self.draw
        roll = draw.random()
        if roll < 0.03:
            truth.reasons = [(NOT_RECORDED_REASON, "not-recorded")]
            return
        count = draw.choices((1, 2, 3, 4), (40, 30, 20, 10))[0]
        chosen: list[str] = []
        while len(chosen) < count:
            code = _pick(draw, REASONS)
            if code not in chosen:
                chosen.append(code)
        truth.reasons = [(code, REASONS[code][0]) for code in chosen]
        if truth.system != "import" and draw.random() < 0.06:
            truth.reasons.append((UNCODED, "uncoded"))
        if truth.system != "import" and draw.random() < 0.04:
            truth.reasons.insert(0, (UNMAPPED_REASON, "unmapped"))

    def lifecycle(self, truth: Truth, status: str | None = None, ended: date | None = None) -> None:
        draw = self.draw
        truth.status = status or _pick(draw, STATUSES)
        if truth.system == "import" and truth.status == "cancelled":
            truth.status = "accepted"  # the template has no cancellation
        if truth.status in ("accepted", "closed"):
            truth.accepted = truth.authored + timedelta(days=draw.randint(0, 12))
        if truth.status == "closed":
            truth.ended = ended or truth.accepted + timedelta(days=draw.randint(10, 120))  # type: ignore[operator]
            truth.ended_reason = _pick(draw, CLOSURE_REASONS)
            if truth.system == "import" and truth.ended_reason == "not-recorded":
                truth.ended_reason = "needs-met"
        elif truth.status in ("declined", "cancelled"):
            truth.ended = truth.authored + timedelta(days=draw.randint(1, 20))
            if truth.status == "declined":
                truth.ended_reason = _pick(draw, DECLINE_REASONS)
        if truth.status in ("accepted", "closed"):
            self._work(truth)

    def _work(self, truth: Truth) -> None:
        """Contacts, support offered and wellbeing scores of an accepted referral."""
        draw = self.draw
        assert truth.accepted is not None
        last = truth.ended or truth.accepted + timedelta(days=90)
        span = max((last - truth.accepted).days, 1)
        for _ in range(draw.choices((0, 1, 2, 3, 4), (15, 30, 25, 20, 10))[0]):
            code, outcome = _pick(draw, ATTENDANCE)
            on = truth.accepted + timedelta(days=draw.randint(0, span))
            live = truth.system == "import" or draw.random() > 0.05
            truth.contacts.append(Contact(on, code, outcome, live))
        if truth.system == "import":
            # The template carries contacts in date order, and only live ones.
            truth.contacts.sort(key=lambda c: c.on)
        if draw.random() < 0.7:
            for _ in range(draw.choices((1, 2, 3), (50, 35, 15))[0]):
                code = _pick(draw, SUPPORT)
                kind = "referral" if draw.random() < 0.35 else "signpost"
                truth.support.append((code, SUPPORT[code][0], kind))
            if truth.system == "import":
                seen: set[str] = set()
                truth.support = [s for s in truth.support if not (s[0] in seen or seen.add(s[0]))]
        if draw.random() < 0.45:
            self._scores(truth, span)

    def _scores(self, truth: Truth, span: int) -> None:
        draw = self.draw
        assert truth.accepted is not None
        if truth.system == "import":
            instrument = draw.choice(("wemwbs", "swemwbs", "pam-13"))
        else:
            instrument = draw.choices(("wemwbs", "swemwbs", "pam-13", "ons4"), (4, 3, 2, 3))[0]
        baseline_on = truth.accepted + timedelta(days=draw.randint(0, 5))
        follow_up_on = baseline_on + timedelta(days=draw.randint(1, span + 30))
        twist = draw.random() if truth.system != "import" else 1.0
        base = self._assessment(instrument, "baseline", baseline_on, None)
        truth.assessments.append(base)
        if twist < 0.08:
            return  # a baseline only
        timepoint = "discharge" if twist < 0.15 else "follow-up"
        follow_up = self._assessment(instrument, timepoint, follow_up_on, base)
        truth.assessments.append(follow_up)
        if truth.system == "import":
            return
        if twist < 0.22:  # a later second baseline: the first one counts
            truth.assessments.append(
                self._assessment(instrument, "baseline", baseline_on + timedelta(days=1), None)
            )
        elif twist < 0.30:  # an earlier follow-up: the last one counts
            middle = baseline_on + timedelta(days=max((follow_up_on - baseline_on).days // 2, 1))
            if middle < follow_up_on:
                truth.assessments.append(self._assessment(instrument, "follow-up", middle, base))
        elif twist < 0.34:  # a later follow-up entered in error: left out
            error = self._assessment(
                instrument, "follow-up", follow_up_on + timedelta(days=3), base
            )
            error.live = False
            truth.assessments.append(error)
        elif twist < 0.37:  # a follow-up on the baseline's own day: not after it
            follow_up.on = baseline_on

    def _assessment(
        self, instrument: str, timepoint: str, on: date, base: Assessment | None
    ) -> Assessment:
        draw = self.draw
        if instrument == "ons4":
            items = {
                item: min(
                    10,
                    max(
                        0,
                        (base.items[item] if base else draw.randint(2, 8))
                        + (draw.randint(-2, 3) if base else 0),
                    ),
                )
                for item in ONS4
            }
            return Assessment(instrument, timepoint, on, items=items)
        low, high = {"wemwbs": (14, 70), "swemwbs": (7, 35), "pam-13": (0, 100)}[instrument]
        if base is None:
            total = draw.randint(low + (high - low) // 4, high - (high - low) // 4)
        else:
            assert base.total is not None
            total = min(high, max(low, base.total + draw.randint(-4, 8)))
        return Assessment(instrument, timepoint, on, total=total)


def _band(age: int) -> str:
    """The report age band of an age (docs/reports.md: 0-17, 18-24, 25-34, ... 75-84, 85+)."""
    for band in AGE_BANDS:
        low, _, high = band.partition("-")
        if high and int(low) <= age <= int(high):
            return band
    return "85+"


def _near(a: int, b: int) -> bool:
    return abs(a - b) <= 2


def _near_boundary(earlier: Truth, later: Truth) -> bool:
    """Whether the pair sits within two days of a linkage boundary (window, end date)."""
    gap = (later.authored - earlier.authored).days
    if gap < 3 or _near(gap, LINKAGE_WINDOW):
        return True
    if earlier.ended is not None:
        since_end = (later.authored - earlier.ended).days
        if _near(since_end, 0) or _near(since_end, LINKAGE_WINDOW):
            return True
    return False


def history(seed: int = 20261203, people: int = 700) -> History:
    """The history: about 1.2 referrals a person, drawn with `seed`."""
    drawer = _Drawer(seed)
    draw = drawer.draw
    first_day, last_day = PERIOD[0] - timedelta(days=20), PERIOD[1] + timedelta(days=20)
    days = (last_day - first_day).days
    referrals: list[Truth] = []
    for _ in range(people):
        person = drawer.person()
        count = draw.choices((1, 2, 3), (82, 14, 4))[0]
        start = first_day + timedelta(days=draw.randrange(days))
        chain = [drawer.referral(person, start)]
        if count == 1:
            drawer.lifecycle(chain[0])
            referrals += chain
            continue
        for _ in range(count - 1):
            earlier = chain[-1]
            drawer.lifecycle(
                earlier, _pick(draw, (("received", 2), ("accepted", 4), ("closed", 6)))
            )
            for _attempt in range(50):
                case = draw.choice(("parallel", "re-referral", "apart"))
                if case == "parallel":
                    gap = draw.randint(3, 85)
                    role = _pick(draw, [(r, w) for r, w in ROLES if r != earlier.role])
                elif case == "re-referral":
                    if earlier.ended is None:
                        continue
                    gap = (earlier.ended - earlier.authored).days + draw.randint(3, 85)
                    role = earlier.role
                else:
                    gap = draw.randint(95, 300)
                    role = _pick(draw, ROLES)
                candidate = drawer.referral(person, earlier.authored + timedelta(days=gap), role)
                if not any(_near_boundary(e, candidate) for e in chain):
                    chain.append(candidate)
                    break
            else:
                break
        drawer.lifecycle(chain[-1])
        referrals += chain
    referrals = [r for r in referrals if r.authored <= last_day]
    messages_out = [_message(r) for r in referrals if r.system != "import"]
    rows = [_template_row(r) for r in referrals if r.system == "import"]
    return History(referrals, messages_out, _template(rows))


# How senders send a referral ------------------------------------------------------------------


def _iso(on: date, hour: int = 10) -> str:
    return f"{on.isoformat()}T{hour:02d}:00:00Z"


def _reason(code: str) -> dict[str, Any]:
    if code == UNCODED:
        return {"text": "Struggling to keep up with bills and letters"}
    if code.isdigit():
        return coded_reason(code)
    return coded_reason(code, systems.REFERRAL_REASON)


def _patient(truth: Truth) -> dict[str, Any]:
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{"system": systems.NHS_NUMBER, "value": truth.person}],
        "name": [{"family": "Synthetic", "given": ["Person"]}],
        "birthDate": f"{truth.birth_year}-06-15",
    }
    extensions: list[dict[str, Any]] = []
    if truth.gender:
        system, code, _ = GENDERS[truth.gender]
        extensions.append(coded_extension(profiles.GENDER_IDENTITY_EXTENSION, system, code))
    if truth.ethnic_category:
        extensions.append(
            coded_extension(
                profiles.ETHNIC_CATEGORY_EXTENSION,
                profiles.ETHNIC_CATEGORY_ENGLAND,
                truth.ethnic_category,
            )
        )
    if truth.pcn:
        extensions.append(
            {
                "url": profiles.PRIMARY_CARE_NETWORK_EXTENSION,
                "valueIdentifier": {"system": systems.ODS_ORGANIZATION, "value": truth.pcn},
            }
        )
    if extensions:
        patient["extension"] = extensions
    if truth.postcode:
        patient["address"] = [{"postalCode": truth.postcode}]
    if truth.practice:
        patient["generalPractitioner"] = [
            {"identifier": {"system": systems.ODS_ORGANIZATION, "value": truth.practice}}
        ]
    return patient


def _task(truth: Truth) -> dict[str, Any] | None:
    outputs = [messages.support(code, kind) for code, _, kind in truth.support]
    end = truth.ended
    if truth.status == "received":
        return None
    if truth.status == "accepted":
        status = "in-progress" if outputs or truth.contacts else "accepted"
        return messages.task("t1", status, accepted=str(truth.accepted), outputs=outputs)
    if truth.status == "declined":
        code = truth.ended_reason or ""
        system = (
            profiles.REFERRAL_REJECTION_REASON
            if code.isdigit()
            else profiles.REFERRAL_CLOSURE_REASON
        )
        return messages.task(
            "t1",
            "rejected",
            ended=str(end),
            reason=(system, code),
            last_modified=_iso(end),  # type: ignore[arg-type]
        )
    if truth.status == "cancelled":
        return messages.task("t1", "cancelled", ended=str(end), last_modified=_iso(end))  # type: ignore[arg-type]
    task = messages.task(
        "t1",
        "completed",
        accepted=str(truth.accepted),
        ended=str(end),
        reason=(profiles.REFERRAL_CLOSURE_REASON, truth.ended_reason or ""),
        outputs=outputs,
        last_modified=_iso(end),  # type: ignore[arg-type]
    )
    if truth.ended_reason == "not-recorded":
        task["statusReason"] = {"text": "Closed after a chat on the phone"}
    return task


def _assessment(index: int, assessment: Assessment) -> dict[str, Any]:
    body = messages.assessment(
        f"a{index}",
        assessment.instrument,
        assessment.timepoint,
        assessment.on.isoformat(),
        total=assessment.total,
        items=assessment.items or None,
    )
    if not assessment.live:
        body["status"] = "entered-in-error"
    return body


def _dates(truth: Truth) -> list[date]:
    found = [truth.authored, *(c.on for c in truth.contacts), *(a.on for a in truth.assessments)]
    return found + [d for d in (truth.accepted, truth.ended) if d is not None]


def _message(truth: Truth) -> dict[str, Any]:
    request: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": "sr-1",
        "identifier": [{"system": REFERRAL_IDS[truth.system], "value": truth.ident}],
        "status": "active",
        "intent": "order",
        "subject": {"identifier": {"system": systems.NHS_NUMBER, "value": truth.person}},
        "authoredOn": _iso(truth.authored, 9),
        "requester": {"identifier": {"system": systems.ODS_ORGANIZATION, "value": truth.sender}},
        "performerType": {
            "coding": [{"system": systems.PERSONALISED_CARE_ROLE, "code": truth.role}]
        },
        "reasonCode": [_reason(code) for code, _ in truth.reasons],
    }
    if truth.source_code:
        request["extension"] = [
            coded_extension(systems.SOURCE_OF_SERVICE_REQUEST_EXTENSION, *truth.source_code)
        ]
    resources: list[dict[str, Any]] = []
    task = _task(truth)
    if task:
        resources.append(task)
    for index, contact in enumerate(truth.contacts, start=1):
        resources.append(
            messages.contact(
                f"c{index}",
                _iso(contact.on, 11),
                attendance=contact.code,
                status="finished" if contact.live else "entered-in-error",
            )
        )
    resources += [_assessment(i, a) for i, a in enumerate(truth.assessments, start=1)]
    return messages.message(
        request,
        *resources,
        reason_code="new",
        timestamp=_iso(max(_dates(truth)), 23),
        bundle_id=f"bundle-{truth.ident}",
        patient=_patient(truth) if truth.patient else None,
        source=SOURCES[truth.system],
    )


def _template_row(truth: Truth) -> dict[str, str]:
    cells = {
        "referral_id": truth.ident,
        "referral_date": truth.authored.isoformat(),
        "nhs_number": truth.person,
        "role": truth.role,
        "referrer_ods": truth.sender,
        "source_of_referral": truth.source_code[1] if truth.source_code else "",
        "reasons": ";".join(c for c, _ in truth.reasons if c != NOT_RECORDED_REASON),
        "year_of_birth": str(truth.birth_year),
        "gender": GENDERS[truth.gender][1] if truth.gender else "",
        "ethnic_category": truth.ethnic_category or "",
        "postcode": truth.postcode or "",
        "practice_ods": truth.practice or "",
        "accepted_date": truth.accepted.isoformat() if truth.accepted else "",
        "contacts": ";".join(f"{c.on}|02|{c.code}" for c in truth.contacts),
        "support_offered": ";".join(f"{code}|{kind}|" for code, _, kind in truth.support),
        "closed_date": "",
        "closure_reason": "",
    }
    for prefix, timepoint in (("baseline", "baseline"), ("followup", "follow-up")):
        found = [a for a in truth.assessments if a.timepoint in (timepoint, "discharge")]
        if prefix == "baseline":
            found = [a for a in truth.assessments if a.timepoint == "baseline"]
        chosen = found[0] if found else None
        cells[f"{prefix}_instrument"] = chosen.instrument if chosen else ""
        cells[f"{prefix}_date"] = chosen.on.isoformat() if chosen else ""
        cells[f"{prefix}_score"] = str(chosen.total) if chosen else ""
    if truth.status == "closed":
        cells["closed_date"] = str(truth.ended)
        cells["closure_reason"] = truth.ended_reason or ""
    if truth.status == "declined":
        cells["declined_date"] = str(truth.ended)
        cells["decline_reason"] = truth.ended_reason or ""
    return template_row(0, **cells)


def _template(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({c: row.get(c, "") for c in COLUMNS} for row in rows)
    return buffer.getvalue()
