"""Disclosure control: the rule every Signpost report publishes its counts by.

The cell key method (ONS, 2021 Census custom tables) with the NHS small-number rule on top:

- Every record (a referral, a screening response, an invitation, a person) carries a
  **record key**, 0 to 255, from a keyed hash of its identifier under the service's secret
  disclosure key (`record_key`, computed inside the database by `RecordKeys`).
- A cell's **cell key** is the sum of its records' keys modulo 256: the same set of records
  has the same cell key in every table, whatever the query that found them.
- The **perturbation table** (`PerturbationTable`, shipped as package data, replaceable by a
  secret one) turns (count, cell key) into a small adjustment of at most `maximum` either way.
- Then the NHS rule: a true count of 0 is shown as 0; a true count of 1 to 7 is suppressed
  (None); every other adjusted count is rounded to the nearest 5 (`publish`), and shown only
  when the whole range of true counts that value stands for (`maximum` + 2 either way) lies
  above 7 (`PerturbationTable.smallest`: 15 for an adjustment of up to 4). Smaller ones are
  suppressed too.

So the same records always publish the same value, in every answer: a margin and its cells,
asked for twice in different shapes, cannot be subtracted to recover a small cell, because
each published value is only known to lie within `maximum` + 2 of the truth. The last rule
keeps that range honest: were a 10 published for a true 8 to 16, the floor of 8 (1 to 7 is
never shown) would tell a reader that every true 8 shown is exactly at the bottom of its range,
and sums of such cells around a suppressed one pin it down (docs/reports.md, the attack).

Percentages and rates are computed from the published counts and withheld when either is
suppressed or the denominator is 0. A caller holding `reports:unsuppressed` may ask for the
true figures, marked as not for publication (`UNCONTROLLED`).
"""

import argparse
import csv
import hashlib
import hmac
import io
import math
import random
import sys
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

SUPPRESS_UP_TO = 7
ROUND_TO = 5
KEY_SPACE = 256
UNSUPPRESSED_SCOPE = "reports:unsuppressed"
UNCONTROLLED = (
    f"UNSUPPRESSED: true counts for a caller with the {UNSUPPRESSED_SCOPE} scope. Do not publish "
    "or share these figures; ask for disclosure=controlled for a publishable version."
)
# Used in development and tests only; each service refuses it in production.
DEV_DISCLOSURE_KEY = "signpost-development-only-disclosure-key-never-use-in-production"
# The primes of the record key hash (2^31 - 1 and the largest prime below it): every
# intermediate product stays below 2^62, so PostgreSQL BIGINT and SQLite agree.
FIRST_PRIME = 2_147_483_647
SECOND_PRIME = 2_147_483_629
_TABLE_FILE = "disclosure-ptable.csv"


@dataclass(frozen=True, slots=True)
class PerturbationTable:
    """Adjustments by (count, cell key): `rows[i][key]` applies to a count of `first + i`,
    and the last row to every larger count. Counts below `first` are never shown."""

    first: int
    rows: tuple[tuple[int, ...], ...]
    # The largest adjustment either way (public: readers reason with it), worked out once.
    maximum: int = field(init=False, compare=False)
    # The smallest value published: the smallest multiple of 5 whose range (the rounding and
    # the largest adjustment either way) lies wholly above 7.
    smallest: int = field(init=False, compare=False)

    def __post_init__(self) -> None:
        maximum = max(abs(p) for row in self.rows for p in row)
        object.__setattr__(self, "maximum", maximum)
        reach = SUPPRESS_UP_TO + ROUND_TO // 2 + maximum
        object.__setattr__(self, "smallest", (reach // ROUND_TO + 1) * ROUND_TO)

    def adjustment(self, count: int, cell_key: int) -> int:
        row = self.rows[min(max(count - self.first, 0), len(self.rows) - 1)]
        return row[cell_key % KEY_SPACE]

    def publish(self, count: int, cell_key: int) -> int | None:
        """A count as published: 0 stays 0; 1 to 7 is suppressed (None); others are adjusted
        by the table and rounded to the nearest 5, and suppressed when that is below
        `smallest`."""
        if count <= SUPPRESS_UP_TO:
            if count < 0:
                raise ValueError("a count cannot be negative")
            return 0 if count == 0 else None
        # `adjustment`, inline: a report publishes a count per cell, up to a hundred thousand.
        rows = self.rows
        index = count - self.first
        row = rows[index] if 0 <= index < len(rows) else rows[0 if index < 0 else -1]
        adjusted = count + row[cell_key % KEY_SPACE]
        rounded = (adjusted + ROUND_TO // 2) // ROUND_TO * ROUND_TO
        return rounded if rounded >= self.smallest else None

    def bounds(self, published: int | None) -> tuple[int, int | None]:
        """What a reader who knows the rule can say about the true count behind `published`
        (None: suppressed, which may also be a cell withheld for another reason)."""
        spread = ROUND_TO // 2 + self.maximum
        if published is None:
            return (1, self.smallest - ROUND_TO // 2 - 1 + self.maximum)
        if published == 0:
            return (0, 0)
        return (max(SUPPRESS_UP_TO + 1, published - spread), published + spread)

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["count", *(f"key_{k}" for k in range(KEY_SPACE))])
        for index, row in enumerate(self.rows):
            last = index == len(self.rows) - 1
            writer.writerow([f"{self.first + index}{'+' if last else ''}", *row])
        return out.getvalue()

    @classmethod
    def from_csv(cls, text: str) -> "PerturbationTable":
        reader = csv.reader(io.StringIO(text))
        next(reader)
        counts: list[int] = []
        rows: list[tuple[int, ...]] = []
        for line in reader:
            if not line:
                continue
            counts.append(int(line[0].rstrip("+")))
            row = tuple(int(value) for value in line[1:])
            if len(row) != KEY_SPACE:
                raise ValueError(f"a perturbation table row has {KEY_SPACE} adjustments")
            rows.append(row)
        if not rows or counts != list(range(counts[0], counts[0] + len(rows))):
            raise ValueError("a perturbation table has one row per count, in order")
        if counts[0] > SUPPRESS_UP_TO + 1:
            raise ValueError(f"a perturbation table starts at a count of {SUPPRESS_UP_TO + 1}")
        return cls(counts[0], tuple(rows))


def adjustment_counts(maximum: int) -> tuple[int, ...]:
    """How many of the 256 keys of a row carry each adjustment 0, 1, ..., `maximum` (and as many
    each negative one): a discrete normal curve with a standard deviation of `maximum` / 3, so
    small adjustments are common and the largest ones rare, but each on at least one key. For
    4: 76, 58, 25, 6 and 1 (the largest, either way, on 1 key in 256)."""
    if maximum == 0:
        return (KEY_SPACE,)
    spread = maximum / 3
    heights = [math.exp(-(k * k) / (2 * spread * spread)) for k in range(maximum + 1)]
    whole = heights[0] + 2 * sum(heights[1:])
    counts = [max(1, round(h * KEY_SPACE / whole)) for h in heights]
    counts[0] = KEY_SPACE - 2 * sum(counts[1:])
    return tuple(counts)


def generate_table(seed: int | None, maximum: int = 4, last: int = 40) -> PerturbationTable:
    """A table whose every row holds the adjustments of `adjustment_counts(maximum)` in a random
    order per row. A `seed` of None draws from the operating system (a secret table).

    Why the largest adjustments are rare: a reader can only pin a count down by interval
    reasoning when figures sit at the very edge of their ranges (docs/reports.md, the attack),
    which takes the largest adjustment; on 1 key in 256 that is 28 times rarer than with every
    adjustment equally likely, while the range a reader must allow for stays 4 either way."""
    draw = random.Random(seed) if seed is not None else random.SystemRandom()  # noqa: S311
    counts = adjustment_counts(maximum)
    values = [0] * counts[0]
    for size, count in enumerate(counts[1:], start=1):
        values += [size] * count + [-size] * count
    rows = []
    for _ in range(SUPPRESS_UP_TO + 1, last + 1):
        row = list(values)
        draw.shuffle(row)
        rows.append(tuple(row))
    return PerturbationTable(SUPPRESS_UP_TO + 1, tuple(rows))


@cache
def shipped_table() -> PerturbationTable:
    """The perturbation table shipped with Signpost (public: use your own for a secret one)."""
    text = resources.files("signpost_schemas").joinpath("data", _TABLE_FILE).read_text()
    return PerturbationTable.from_csv(text)


def load_table(path: str | None) -> PerturbationTable:
    """The table at `path` (a service's `*_DISCLOSURE_PTABLE`), or the shipped one."""
    if not path:
        return shipped_table()
    return _table_at(path)


@cache
def _table_at(path: str) -> PerturbationTable:
    return PerturbationTable.from_csv(Path(path).read_text())


@dataclass(frozen=True, slots=True)
class Hash:
    """A keyed hash in integer arithmetic, so the database computes it where the records are:
    y = (x a + b) mod P1, z = (y^2 + c) mod P2, hash = (z^2 + d) mod P1 (the squares make it
    non-linear: consecutive identifiers get unrelated keys)."""

    a: int
    b: int
    c: int
    d: int

    def of(self, value: int) -> int:
        """The hash of a non-negative integer below 2^31 (the reference implementation)."""
        first = (value * self.a + self.b) % FIRST_PRIME
        second = (first * first + self.c) % SECOND_PRIME
        return (second * second + self.d) % FIRST_PRIME


@dataclass(frozen=True, slots=True)
class RecordKeys:
    """The keyed hashes of one disclosure key: `record` for records (record key: the hash
    modulo 256), `person` for people (a person tag; its record key is the tag modulo 256)."""

    record: Hash
    person: Hash
    fingerprint: str

    @classmethod
    def of(cls, secret: str) -> "RecordKeys":
        def hashed(label: str) -> Hash:
            digest = hmac.new(secret.encode(), label.encode(), hashlib.sha256).digest()
            parts = [int.from_bytes(digest[i : i + 8], "big") for i in range(0, 32, 8)]
            return Hash(
                1 + parts[0] % (FIRST_PRIME - 1),
                parts[1] % FIRST_PRIME,
                parts[2] % SECOND_PRIME,
                parts[3] % FIRST_PRIME,
            )

        fingerprint = hmac.new(
            secret.encode(), b"signpost disclosure key fingerprint", hashlib.sha256
        ).hexdigest()[:16]
        return cls(hashed("record key"), hashed("person key"), fingerprint)

    def record_key(self, number: int) -> int:
        return self.record.of(number % FIRST_PRIME) % KEY_SPACE


def cell_key(*record_key_sums: int | None) -> int:
    """The cell key of a count from the sums of its records' keys (several for a count made
    of disjoint parts)."""
    return sum(int(value or 0) for value in record_key_sums) % KEY_SPACE


def publish_count(count: int, cell_key: int, table: PerturbationTable | None = None) -> int | None:
    """A count with its cell key as published under `table` (the shipped one by default)."""
    return (table or shipped_table()).publish(count, cell_key)


def cell_key_rule(table: "PerturbationTable") -> str:
    """The rule every controlled report states in its notes (each service adds what it does
    beyond it)."""
    return (
        "Counts are published by the cell key method: each count is adjusted by at most "
        f"{table.maximum} either way, by an amount that depends only on which records it counts "
        "(the same records give the same published value in every report); true counts of 1 "
        f"to {SUPPRESS_UP_TO} are suppressed (null, named in the row's `suppressed`); other "
        f"counts are rounded to the nearest {ROUND_TO} and shown only from {table.smallest} "
        "(a smaller value is suppressed too, so that no value shown could stand for a count of "
        f"{SUPPRESS_UP_TO} or less). Totals are computed from the true figures and then "
        "published the same way, never summed from published cells"
    )


def publish_unkeyed(count: int) -> int | None:
    """The small-number rule alone, for figures without record keys (a registered population;
    the screening reports until their records carry keys): 0 stays 0, 1 to 7 is suppressed,
    others are rounded to the nearest 5."""
    if count < 0:
        raise ValueError("a count cannot be negative")
    if 0 < count <= SUPPRESS_UP_TO:
        return None
    return round_only(count)


def round_only(count: int) -> int:
    """A figure that is not a count of records (a registered population from a published list
    size): rounded to the nearest 5, never suppressed."""
    return (count + ROUND_TO // 2) // ROUND_TO * ROUND_TO


def ratio(
    numerator: float | None, denominator: float | None, scale: int = 100, decimals: int = 1
) -> float | None:
    """numerator / denominator * scale (a percentage by default, to one decimal); None when
    either is missing or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return round(numerator * scale / denominator, decimals)


def main(argv: list[str] | None = None) -> int:
    """`python -m signpost_schemas.disclosure ptable [--maximum N] > table.csv`: a new, secret
    perturbation table (or a reproducible one with `--seed`)."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("command", choices=["ptable"])
    parser.add_argument("--maximum", type=int, default=4)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    sys.stdout.write(generate_table(args.seed, args.maximum).to_csv())
    return 0


if __name__ == "__main__":
    sys.exit(main())
