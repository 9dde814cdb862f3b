"""The SQL side of the cell key method (`signpost_schemas.disclosure`): record keys computed
where the records are, and the key sums every report count carries beside it.

A count that is `sum(flag)` has the key sum `sum(flag * record_key)`, in the same SELECT: no
second scan. Its cell key is that sum modulo 256 (`signpost_schemas.disclosure.cell_key`).
"""

from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    SmallInteger,
    SQLColumnExpression,
    and_,
    cast,
    func,
    literal,
)
from sqlalchemy.dialects.postgresql import BIT
from sqlalchemy.sql.elements import ColumnElement

from signpost_schemas.disclosure import FIRST_PRIME, KEY_SPACE, SECOND_PRIME, Hash


def _big(value: int) -> ColumnElement[int]:
    return literal(value, BigInteger)


def hashed(key: Hash, value: ColumnElement[Any]) -> ColumnElement[int]:
    """`key.of(value)` in SQL, for a non-negative integer below 2^31 (BIGINT arithmetic)."""
    first = (cast(value, BigInteger) * _big(key.a) + _big(key.b)) % _big(FIRST_PRIME)
    second = (first * first + _big(key.c)) % _big(SECOND_PRIME)
    return (second * second + _big(key.d)) % _big(FIRST_PRIME)


def non_negative(value: ColumnElement[Any]) -> ColumnElement[int]:
    """A signed 64-bit value reduced into 0 .. 2^31 - 2 (the hash's input range)."""
    prime = _big(FIRST_PRIME)
    return ((cast(value, BigInteger) % prime) + prime) % prime


def hex_number(dialect: str, identifier: SQLColumnExpression[str], digits: int = 7) -> Any:
    """The number written by the first `digits` hexadecimal digits of a UUID (7 digits: below
    2^28), the same on every database: a record's identity, whatever key it was stored under.

    Every identifier numbered here is a UUID the service assigned (uuid4, or uuid5 from a
    sender's id): no route lets a client choose one. PostgreSQL reads the digits with one cast
    to a bit string (`('x' || digits)::bit(4n)`). Looking each digit up cost about 2.5 s more
    per million rows: a record key repeats its number four times, and the data-quality report
    keys every referral received. SQLite has no such cast, so it looks each digit up. A
    non-hex character, which no UUID has, makes the PostgreSQL cast fail the statement, where
    a look-up would give a wrong number: an id a sender chose must never be numbered here."""
    if dialect == "postgresql":
        written = literal("x") + func.substr(identifier, 1, digits)
        return cast(cast(written, BIT(4 * digits)), BigInteger)
    number: Any = literal(0, BigInteger)
    for index in range(digits):
        digit = func.instr("0123456789abcdef", func.substr(func.lower(identifier), index + 1, 1))
        number = number * 16 + (digit - 1)
    return number


def record_key(key: Hash, value: ColumnElement[Any]) -> ColumnElement[int]:
    """The record key (0-255) of the record numbered `value`."""
    return cast(hashed(key, non_negative(value)) % _big(KEY_SPACE), Integer)


def key_sum(record_keys: ColumnElement[Any], value: ColumnElement[Any] | None = None) -> Any:
    """The key sum of a count: SUM(record_key), or SUM(value * record_key) for a count that is
    SUM(value) (a flag, or a number of events per record). A SMALLINT value is multiplied as
    an INTEGER: PostgreSQL multiplies two SMALLINTs as one, so 129 contacts of a record keyed
    255 would overflow it."""
    if value is None:
        keyed = record_keys
    else:
        keyed = (
            cast(value, Integer) if isinstance(value.type, SmallInteger) else value
        ) * record_keys
    return func.coalesce(func.sum(keyed), 0)


def distinct_key_sum(identifier: ColumnElement[Any], record_keys: ColumnElement[Any]) -> Any:
    """The key sum of COUNT(DISTINCT identifier) where several rows share a record: each
    record once (identifier * 256 + key is distinct per record; below 2^39 a record)."""
    return func.coalesce(
        func.sum(func.distinct(cast(identifier, BigInteger) * KEY_SPACE + record_keys)), 0
    )


def distinct_person_key_sum(
    dialect: str,
    pseudonym: ColumnElement[Any],
    tag: ColumnElement[Any],
    where: ColumnElement[bool],
) -> Any:
    """The key sum of the distinct people among the rows where `where` holds, each person's
    `tag` once (a person's rows all carry the same pseudonym and tag): its value modulo 256 is
    their cell key.

    DISTINCT over the tags would add a tag once for two people who share it. So each person
    is told by their 64-bit pseudonym with its low byte replaced by the tag's: the same modulo
    256 as the tag, and unique per person unless two pseudonyms share their other 56 bits and
    their tags their low byte (about 3 in 100 million that any two of a million people do).
    PostgreSQL sums those exactly, as NUMERIC, in the form `COALESCE(SUM(DISTINCT x) FILTER
    (WHERE c), 0)` that a report may count over only the rows `c` keeps. SQLite sums integers in
    64 bits, so there the sum modulo 256 is put together from its 8 bits: 2^b times the number
    of distinct values with bit b set."""
    person = pseudonym.op("&")(_big(-KEY_SPACE)).op("|")(tag.op("&")(_big(KEY_SPACE - 1)))
    if dialect == "postgresql":
        return func.coalesce(func.sum(func.distinct(person)).filter(where), 0)
    bits = KEY_SPACE.bit_length() - 1
    return sum(
        (
            func.count(func.distinct(person)).filter(and_(where, person.op("&")(_big(1 << b)) != 0))
            * (1 << b)
            for b in range(bits)
        ),
        start=literal(0, BigInteger),
    )
