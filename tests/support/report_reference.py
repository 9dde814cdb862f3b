"""Every report of referral-api recomputed in plain Python from the truth of a synthetic history.

The definitions are those of docs/reports.md, written again here from the generator's truth
(`tests.support.report_history.Truth`), with no Signpost code in the counting: what a report
counts, which referrals are in scope, how a referral with several reasons is grouped, how
waits, percentiles, pairs of scores and links are made. A report that changes its definition
must change this file on purpose.

Each count comes with the sum of its records' keys (the cell key method, docs/reports.md):
a referral's record key is the keyed hash of the first seven hex digits of its id, a person's
the keyed hash of their pseudonym; a count of events (contacts, offers) adds its referral's key
once per event. The published value is then the documented rule applied to (count, cell key):
`signpost_schemas.disclosure.publish_count`.
"""

import csv
import hashlib
import hmac
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from typing import Any

from signpost_schemas.disclosure import FIRST_PRIME, RecordKeys
from tests.support.report_history import LINKAGE_WINDOW, PERIOD, Truth

# docs/reports.md, "Reason vs support: the map".
NEEDS_MET_BY = {
    "housing": ("housing",),
    "finance": ("finance", "form-filling"),
    "food": ("food", "finance"),
    "isolation-loneliness": ("isolation-loneliness",),
    "employment": ("employment",),
    "transport": ("transport",),
    "mental-wellbeing": ("mental-wellbeing", "isolation-loneliness"),
    "safety": ("safety",),
    "carer": ("carer",),
    "physical-activity": ("physical-activity", "general-wellbeing"),
    "form-filling": ("form-filling",),
    "general-wellbeing": (
        "general-wellbeing",
        "physical-activity",
        "isolation-loneliness",
        "mental-wellbeing",
    ),
    "other": ("other",),
}
STATUSES = ("received", "accepted", "declined", "cancelled", "closed")
OUTCOMES = {
    "attended": "attended",
    "dna": "dna",
    "not-seen": "not_seen",
    "cancelled-by-patient": "cancelled_by_patient",
    "cancelled-by-provider": "cancelled_by_provider",
    "booked": "booked",
}
# Scores: the totals of WEMWBS, SWEMWBS and PAM-13, and each ONS4 item; lower is better for
# ONS4 anxiety.
LOWER_IS_BETTER = {"ons4-anxiety"}
PER_REASON = ("reason", "reason-group")
# Completeness fields: (field, applies to closed referrals only, present).
FIELDS: tuple[tuple[str, bool, Callable[[Truth], bool]], ...] = (
    ("reason", False, lambda t: any(g not in ("not-recorded", "uncoded") for _, g in t.reasons)),
    ("source", False, lambda t: t.source not in ("not-recorded", "unknown")),
    ("person", False, lambda t: t.patient),
    ("age_band", False, lambda t: t.age_band is not None),
    ("gender", False, lambda t: t.gender not in (None, "not-known")),
    ("ethnicity", False, lambda t: t.ethnic_category not in (None, "99")),
    ("lsoa", False, lambda t: t.lsoa is not None),
    ("practice", False, lambda t: t.practice is not None),
    ("pcn", False, lambda t: t.pcn is not None),
    ("closure_reason", True, lambda t: t.ended_reason not in (None, "not-recorded")),
)

Key = tuple[Any, ...]


@dataclass
class Count:
    """A true count and the sum of the record keys of what it counts."""

    value: int = 0
    keys: int = 0

    def add(self, key: int, times: int = 1) -> None:
        self.value += times
        self.keys += key * times


@dataclass
class Table:
    """A report as the reference computes it: rows and totals keyed by their dimension
    columns, each a dict of column -> Count (counts) or a number (statistics)."""

    key_columns: tuple[str, ...]
    rows: dict[Key, dict[str, Any]] = field(default_factory=dict)
    totals: dict[Key, dict[str, Any]] = field(default_factory=dict)


def pseudonym(person_key: str, key: str) -> int:
    """docs/reports.md, Pseudonymisation: the first 8 bytes of HMAC-SHA256 as a signed int."""
    digest = hmac.new(key.encode(), person_key.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def percentile(values: list[int], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks: position (n - 1) p of the sorted values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    if low + 1 >= len(ordered):
        return float(ordered[low])
    return ordered[low] + (ordered[low + 1] - ordered[low]) * (position - low)


def list_sizes() -> dict[tuple[str, str, str, str], int]:
    """The synthetic list-size sample summed into (area type, area, age band, sex)."""
    path = resources.files("referral_api.reports").joinpath("data", "list-size-sample.csv")
    sizes: dict[tuple[str, str, str, str], int] = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["ORG_TYPE"] != "GP" or row["SEX"] not in ("MALE", "FEMALE"):
                continue
            age = int(row["AGE"].rstrip("+"))
            band = _band(age)
            sex = row["SEX"].lower()
            for area in (("practice", row["ORG_CODE"]), ("pcn", row["PCN_CODE"])):
                index = (*area, band, sex)
                sizes[index] = sizes.get(index, 0) + int(row["NUMBER_OF_PATIENTS"])
    return sizes


def _band(age: int) -> str:
    for low, high in ((0, 17), (18, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 74)):
        if low <= age <= high:
            return f"{low}-{high}"
    return "75-84" if age <= 84 else "85+"


class Reference:
    """The reports of a loaded history (every `Truth` carries its Signpost id)."""

    def __init__(self, referrals: list[Truth], pseudonym_key: str, disclosure_key: str) -> None:
        self.referrals = referrals
        keys = RecordKeys.of(disclosure_key)
        self.record_key = {t.id: keys.record_key(int(t.id[:7], 16)) for t in referrals}
        self.person_tag = {
            t.person: keys.person.of(pseudonym(t.person, pseudonym_key) % FIRST_PRIME)
            for t in referrals
        }
        self.re_referral: set[str] = set()
        self.parallel: set[str] = set()
        self._link()
        self.sizes = list_sizes()

    # Linkage (docs/lifecycle.md, 5) ----------------------------------------------------------

    def _link(self) -> None:
        by_person: dict[str, list[Truth]] = {}
        for truth in self.referrals:
            by_person.setdefault(truth.person, []).append(truth)
        for chain in by_person.values():
            chain.sort(key=lambda t: (t.authored, t.id))
            for earlier, later in itertools.combinations(chain, 2):
                gap = (later.authored - earlier.authored).days
                is_open = earlier.ended is None or earlier.ended > later.authored
                if earlier.role != later.role and gap <= LINKAGE_WINDOW and is_open:
                    self.parallel.add(later.id)
                if (
                    earlier.role == later.role
                    and earlier.ended is not None
                    and later.authored > earlier.ended
                    and (later.authored - earlier.ended).days <= LINKAGE_WINDOW
                ):
                    self.re_referral.add(later.id)

    # Scope and groups --------------------------------------------------------------------------

    @staticmethod
    def dimension(truth: Truth, name: str) -> list[Any]:
        """The values of a dimension for a referral (a reason dimension may have several)."""
        if name == "reason":
            return list(dict.fromkeys(code for code, _ in truth.reasons))
        if name == "reason-group":
            return list(dict.fromkeys(group for _, group in truth.reasons))
        if name == "support-group":  # none offered: the group with no value
            return list(dict.fromkeys(group for _, group, _ in truth.support)) or [None]
        return [
            {
                "month": truth.month,
                "role": truth.role,
                "source": truth.source,
                "source-system": truth.system,
                "practice": truth.practice,
                "pcn": truth.pcn,
                "age-band": truth.age_band,
                "gender": truth.gender,
                "ethnicity": truth.ethnicity,
                "ethnic-category": truth.ethnic_category,
                "imd-decile": truth.imd_decile,
            }[name]
        ]

    def scope(
        self, filters: dict[str, tuple[str, ...]], period: tuple[date, date] = PERIOD
    ) -> list[Truth]:
        found = []
        for truth in self.referrals:
            if not period[0] <= truth.authored <= period[1]:
                continue
            if all(
                any(value in wanted for value in self.dimension(truth, name))
                for name, wanted in filters.items()
            ):
                found.append(truth)
        return found

    def groups(self, truth: Truth, group_by: tuple[str, ...]) -> list[Key]:
        return list(itertools.product(*(self.dimension(truth, name) for name in group_by)))

    # The reports -------------------------------------------------------------------------------

    def report(
        self,
        name: str,
        filters: dict[str, tuple[str, ...]],
        group_by: tuple[str, ...],
        options: dict[str, str],
    ) -> Table:
        referrals = self.scope(filters)
        build = getattr(self, "_" + name.replace("-", "_"))
        return build(referrals, group_by, filters, options)  # type: ignore[no-any-return]

    def _grouped(
        self,
        referrals: Iterable[Truth],
        group_by: tuple[str, ...],
        categories: tuple[str, ...],
        measure: Callable[[Truth], Iterable[tuple[Key, dict[str, Any]]]],
    ) -> Table:
        """Rows per group (and category) and totals per category, adding what `measure` gives
        each referral: (category, {column: times, or (times, key) ...})."""
        table = Table((*_columns(group_by), *categories))
        if not categories:
            table.totals[(None,) * len(group_by)] = {}
        for truth in referrals:
            measured = list(measure(truth))
            for group in self.groups(truth, group_by):
                for category, counts in measured:
                    self._add(table.rows, (*group, *category), truth, counts)
            for category, counts in measured:
                self._add(table.totals, (*(None,) * len(group_by), *category), truth, counts)
        return table

    def _add(self, into: dict[Key, dict[str, Any]], key: Key, truth: Truth, counts: dict) -> None:
        row = into.setdefault(key, {})
        for column, times in counts.items():
            if isinstance(times, tuple):  # (times, record key): counted by person
                times, record = times
            else:
                record = self.record_key[truth.id]
            if times:
                row.setdefault(column, Count()).add(record, times)
            else:
                row.setdefault(column, Count())

    def _referrals(self, referrals, group_by, filters, options) -> Table:
        table = self._grouped(referrals, group_by, (), lambda t: [((), {"referrals": 1})])
        self._people(table, referrals, group_by, "people", lambda t: True)
        return table

    def _people(
        self,
        table: Table,
        referrals: list[Truth],
        group_by: tuple[str, ...],
        column: str,
        keep: Callable[[Truth], bool],
    ) -> None:
        """Distinct people (by person key) of the referrals `keep` keeps, per row and total;
        their cell key adds each person's key once."""
        people: dict[tuple[str, Key], set[str]] = {}
        for truth in referrals:
            if keep(truth):
                for group in self.groups(truth, group_by):
                    people.setdefault(("row", group), set()).add(truth.person)
                people.setdefault(("total", (None,) * len(group_by)), set()).add(truth.person)
        for kind, into in (("row", table.rows), ("total", table.totals)):
            for key, row in into.items():
                persons = people.get((kind, key), set())
                row[column] = Count(len(persons), sum(self.person_tag[p] for p in persons))

    def _in_group(self, referrals: list[Truth], group_by: tuple[str, ...]) -> dict[Key, Count]:
        counted: dict[Key, Count] = {}
        for truth in referrals:
            for group in self.groups(truth, group_by):
                counted.setdefault(group, Count()).add(self.record_key[truth.id])
        return counted

    def _total(self, referrals: list[Truth], keep: Callable[[Truth], bool] = bool) -> Count:
        counted = Count()
        for truth in referrals:
            if keep(truth):
                counted.add(self.record_key[truth.id])
        return counted

    def _reasons(self, referrals, group_by, filters, options) -> Table:
        level = options.get("level", "reason")
        column = "reason" if level == "reason" else "reason_group"

        def measure(truth: Truth) -> list[tuple[Key, dict[str, Any]]]:
            return [((value,), {"referrals": 1}) for value in self.dimension(truth, level)]

        table = self._grouped(referrals, group_by, (column,), measure)
        in_group = self._in_group(referrals, group_by)
        whole = self._total(referrals)
        for key, row in table.rows.items():
            row["referrals_in_group"] = in_group[key[: len(group_by)]]
        for row in table.totals.values():
            row["referrals_in_group"] = whole
        table.totals[(*(None,) * len(group_by), None)] = {
            "referrals": whole,
            "referrals_in_group": whole,
        }
        return table

    def _reason_pairs(self, referrals, group_by, filters, options) -> Table:
        level = options.get("level", "reason")

        def pairs(truth: Truth) -> list[Key]:
            values = [v for v in self.dimension(truth, level) if v != "not-recorded"]
            return [tuple(sorted(pair)) for pair in itertools.combinations(values, 2)]

        table = self._grouped(
            referrals,
            group_by,
            ("pair",),
            lambda t: [((pair,), {"referrals": 1}) for pair in pairs(t)],
        )
        in_group = self._in_group(referrals, group_by)
        for key, row in table.rows.items():
            row["referrals_in_group"] = in_group[key[: len(group_by)]]
        table.totals = {
            (*(None,) * len(group_by), None): {
                "referrals": self._total(referrals, lambda t: bool(pairs(t))),
                "referrals_in_group": self._total(referrals),
            }
        }
        return table

    def _support(self, referrals, group_by, filters, options) -> Table:
        level = options.get("level", "support")

        def measure(truth: Truth) -> list[tuple[Key, dict[str, Any]]]:
            found: dict[str, dict[str, int]] = {}
            for code, group, kind in truth.support:
                value = code if level == "support" else group
                counts = found.setdefault(value, {"referrals": 1, "offers": 0, "onward": 0})
                counts["offers"] += 1
                counts["onward"] += kind == "referral"
            return [
                (
                    (value,),
                    {
                        "referrals": 1,
                        "offers": counts["offers"],
                        "onward_referrals": counts["onward"],
                    },
                )
                for value, counts in found.items()
            ]

        table = self._grouped(referrals, group_by, ("support",), measure)
        total: dict[str, Count] = {"referrals": Count(), "offers": Count()}
        total["onward_referrals"] = Count()
        for truth in referrals:
            key = self.record_key[truth.id]
            if truth.support:
                total["referrals"].add(key)
                total["offers"].add(key, len(truth.support))
                onward = sum(kind == "referral" for _, _, kind in truth.support)
                if onward:
                    total["onward_referrals"].add(key, onward)
        table.totals = {(*(None,) * len(group_by), None): total}  # type: ignore[dict-item]
        return table

    def _support_match(self, referrals, group_by, filters, options) -> Table:
        def addressed(truth: Truth, need: str) -> bool:
            return any(group in NEEDS_MET_BY[need] for _, group, _ in truth.support)

        def measure(truth: Truth) -> list[tuple[Key, dict[str, Any]]]:
            needs = [g for g in self.dimension(truth, "reason-group") if g in NEEDS_MET_BY]
            return [
                (
                    (need,),
                    {
                        "referrals": 1,
                        "with_support": int(bool(truth.support)),
                        "matched": int(addressed(truth, need)),
                    },
                )
                for need in needs
            ]

        table = self._grouped(referrals, group_by, ("reason_group",), measure)
        with_need = [
            t
            for t in referrals
            if any(g in NEEDS_MET_BY for g in self.dimension(t, "reason-group"))
        ]
        table.totals = {
            (*(None,) * len(group_by), None): {
                "referrals": self._total(with_need),
                "with_support": self._total(with_need, lambda t: bool(t.support)),
                "matched": self._total(
                    with_need,
                    lambda t: any(
                        addressed(t, n)
                        for n in self.dimension(t, "reason-group")
                        if n in NEEDS_MET_BY
                    ),
                ),
            }
        }
        return table

    @staticmethod
    def first_contact_days(truth: Truth) -> int | None:
        attended = [c.on for c in truth.contacts if c.live and c.outcome == "attended"]
        return (min(attended) - truth.authored).days if attended else None

    @staticmethod
    def closure_days(truth: Truth) -> int | None:
        if truth.status != "closed" or truth.ended is None:
            return None
        return (truth.ended - truth.authored).days

    def _waiting_times(self, referrals, group_by, filters, options) -> Table:
        table = Table(_columns(group_by))
        waits: dict[Key, tuple[list[int], list[int]]] = {}
        for truth in referrals:
            first, closure = self.first_contact_days(truth), self.closure_days(truth)
            for into, key in [(table.rows, g) for g in self.groups(truth, group_by)] + [
                (table.totals, (None,) * len(group_by))
            ]:
                self._add(
                    into,
                    key,
                    truth,
                    {"referrals": 1, "first_contact": int(first is not None)}
                    | {"closed": int(closure is not None)},
                )
                found = waits.setdefault((id(into), *key), ([], []))
                if first is not None:
                    found[0].append(first)
                if closure is not None:
                    found[1].append(closure)
        for into in (table.rows, table.totals):
            for key, row in into.items():
                first_days, closure_days = waits[(id(into), *key)]
                row["first_contact_median"] = percentile(first_days, 0.5)
                row["first_contact_p90"] = percentile(first_days, 0.9)
                row["closure_median"] = percentile(closure_days, 0.5)
                row["closure_p90"] = percentile(closure_days, 0.9)
        return table

    def _attendance(self, referrals, group_by, filters, options) -> Table:
        def measure(truth: Truth) -> list[tuple[Key, dict[str, Any]]]:
            live = [c for c in truth.contacts if c.live]
            counts: dict[str, Any] = {column: 0 for column in OUTCOMES.values()}
            for contact in live:
                counts[OUTCOMES[contact.outcome]] += 1
            counts["contacts"] = len(live)
            counts["appointments_due"] = counts["attended"] + counts["dna"] + counts["not_seen"]
            counts["referrals_with_contact"] = int(bool(live))
            counts["referrals_with_dna"] = int(counts["dna"] > 0)
            return [((), counts)]

        return self._grouped(referrals, group_by, (), measure)

    def _outcomes(self, referrals, group_by, filters, options) -> Table:
        return self._grouped(
            referrals,
            group_by,
            (),
            lambda t: [((), {"referrals": 1} | {s: int(t.status == s) for s in STATUSES})],
        )

    def _closure_reasons(self, referrals, group_by, filters, options) -> Table:
        ended = [t for t in referrals if t.status in ("closed", "declined")]
        table = self._grouped(
            ended,
            group_by,
            ("ended", "code"),
            lambda t: [((t.status, t.ended_reason), {"referrals": 1})],
        )
        ended_in: dict[tuple[str, Key], Count] = {}
        for truth in ended:
            for kind, group in [
                *(("row", g) for g in self.groups(truth, group_by)),
                ("total", (None,) * len(group_by)),
            ]:
                ended_in.setdefault((kind, (*group, truth.status)), Count()).add(
                    self.record_key[truth.id]
                )
        for kind, into in (("row", table.rows), ("total", table.totals)):
            for key, row in into.items():
                row["ended_total"] = ended_in[(kind, key[: len(group_by) + 1])]
        return table

    def _rates(self, referrals, group_by, filters, options) -> Table:
        wanted = {*group_by, *filters}
        level = "pcn" if "pcn" in wanted and "practice" not in wanted else "practice"
        areas = {area for (kind, area, _, _) in self.sizes if kind == level}
        loaded = [t for t in referrals if (t.practice if level == "practice" else t.pcn) in areas]
        table = self._grouped(loaded, group_by, (), lambda t: [((), {"referrals": 1})])
        dims = ("practice", "pcn", "age-band", "gender")
        conditions = {name: tuple(filters[name]) for name in dims if name in filters}

        def population(fixed: dict[str, tuple[Any, ...]]) -> int | None:
            total, found = 0, False
            for (kind, area, band, sex), size in self.sizes.items():
                if kind != level:
                    continue
                values = {
                    "practice": area if level == "practice" else None,
                    "pcn": area if level == "pcn" else _pcn_of(area),
                    "age-band": band,
                    "gender": sex,
                }
                if all(values[name] in allowed for name, allowed in fixed.items()):
                    total, found = total + size, True
            return total if found else None

        for key, row in table.rows.items():
            by_group = {n: (v,) for n, v in zip(group_by, key, strict=True) if n in dims}
            row["population"] = population({**conditions, **by_group})
        whole = (None,) * len(group_by)
        table.totals.setdefault(whole, {"referrals": Count()})
        # Over the whole scope the registered population is a sum: 0 when nothing matches.
        table.totals[whole]["population"] = population(conditions) or 0
        return table

    def _wellbeing(self, referrals, group_by, filters, options) -> Table:
        def measure(truth: Truth) -> list[tuple[Key, dict[str, Any]]]:
            found = []
            for name, base, follow in _pairs(truth):
                change = follow - base
                better = change < 0 if name in LOWER_IS_BETTER else change > 0
                found.append(
                    (
                        (name,),
                        {
                            "pairs": 1,
                            "improved": int(better),
                            "sum:baseline": (base, 0),
                            "sum:follow_up": (follow, 0),
                            "sum:change": (change, 0),
                        },
                    )
                )
            return found

        table = self._grouped(referrals, group_by, ("measure",), measure)
        for into in (table.rows, table.totals):
            for key, row in into.items():
                pairs = row["pairs"].value
                for name in ("baseline", "follow_up", "change"):
                    summed = row.pop(f"sum:{name}", Count()).value
                    row[f"mean_{name}"] = summed / pairs if pairs else None
                row["better"] = "lower" if key[-1] in LOWER_IS_BETTER else "higher"
        return table

    def _re_referrals(self, referrals, group_by, filters, options) -> Table:
        table = self._grouped(
            referrals,
            group_by,
            (),
            lambda t: [
                (
                    (),
                    {
                        "referrals": 1,
                        "re_referrals": int(t.id in self.re_referral),
                        "parallel": int(t.id in self.parallel),
                    },
                )
            ],
        )
        self._people(
            table, referrals, group_by, "people_in_parallel", lambda t: t.id in self.parallel
        )
        return table

    def _completeness(self, referrals, group_by, filters, options) -> Table:
        def measure(truth: Truth) -> list[tuple[Key, dict[str, Any]]]:
            found = []
            for name, closed_only, present in FIELDS:
                applies = truth.status == "closed" if closed_only else True
                complete = applies and present(truth)
                found.append(((name,), {"applicable": int(applies), "complete": int(complete)}))
            return found

        table = self._grouped(referrals, group_by, ("field",), measure)
        # A group's closure-reason row is there even when none of its referrals is closed.
        return table


def _columns(group_by: Iterable[str]) -> tuple[str, ...]:
    return tuple(name.replace("-", "_") for name in group_by)


def _pcn_of(practice: str) -> str | None:
    return {"F84001": "U00001", "F84002": "U00001", "F84003": "U00002"}.get(practice)


def _pairs(truth: Truth) -> list[tuple[str, float, float]]:
    """(score, baseline, follow-up) per score: the first baseline and the last follow-up or
    discharge assessment after it, leaving out assessments entered in error."""
    scores: dict[str, list[tuple[date, str, float]]] = {}
    for assessment in truth.assessments:
        if not assessment.live:
            continue
        values = dict(assessment.items)
        if assessment.total is not None:
            values[assessment.instrument] = assessment.total
        for name, value in values.items():
            scores.setdefault(name, []).append((assessment.on, assessment.timepoint, value))
    found = []
    for name, taken in scores.items():
        baselines = sorted((on, v) for on, timepoint, v in taken if timepoint == "baseline")
        follow_ups = sorted((on, v) for on, timepoint, v in taken if timepoint != "baseline")
        if not baselines or not follow_ups:
            continue
        (base_on, base), (follow_on, follow) = baselines[0], follow_ups[-1]
        if follow_on > base_on:
            found.append((name, base, follow))
    return found
