"""Statements built once per shape: a query's values held out as named bind parameters.

Building a SQLAlchemy statement, and keying it for the compiled cache, costs more CPU than
running it. A search split by `Binds` into its shape (which parameters, how many values OR'd,
which token forms and date prefixes: hashable) and its values (the bind parameters) can reuse
the statement built for the first search of that shape; SQLAlchemy memoises the cache key of a
statement object it has seen.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, bindparam


@dataclass(frozen=True, slots=True)
class Bound:
    """A value held out of its statement: the name of its bind parameter (a list's,
    `expanding`, for IN)."""

    name: str
    expanding: bool = False


def bound(value: Any) -> Any:
    """The bind parameter of a `Bound`; any other value as it is (kept in the statement)."""
    if isinstance(value, Bound):
        param: BindParameter[Any] = bindparam(value.name, expanding=value.expanding)
        return param
    return value


class Binds:
    """Holds a query's values out of its statement: each value met becomes a named bind
    parameter (p0, p1, … in the order met), and `values` are the statement's parameters.

    Whatever a shape keeps besides `Bound`s (None for "any system", a date prefix, a flag) is
    part of it: a builder may branch on those and on nothing else. `Literals` keeps the values
    in the statement instead, for a statement built for one query."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def __call__(self, value: Any, *, expanding: bool = False) -> Any:
        held = Bound(f"p{len(self.values)}", expanding)
        self.values[held.name] = value
        return held

    def many(self, values: Any) -> Any:
        """A list of values OR'd (an IN list)."""
        return self(list(values), expanding=True)


class Literals(Binds):
    """`Binds` that keeps every value in the statement."""

    def __call__(self, value: Any, *, expanding: bool = False) -> Any:
        return list(value) if expanding else value
