"""Text matching built from user input: LIKE patterns whose wildcards are escaped.

A search for `50%` or `a_b` means those characters, not "anything": `%`, `_` and the escape
character itself are escaped before they reach a LIKE pattern, with an explicit ESCAPE clause
(PostgreSQL's default escape is a backslash, SQLite has none). Every LIKE built from a request
goes through `contains` or `starts_with`.
"""

from sqlalchemy import ColumnElement, SQLColumnExpression

ESCAPE = "\\"


def escape_like(value: str) -> str:
    """`value` as a LIKE pattern that matches exactly it (to be used with `ESCAPE`)."""
    return (
        value.replace(ESCAPE, ESCAPE + ESCAPE).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    )


def contains(column: SQLColumnExpression[str], value: str) -> ColumnElement[bool]:
    """`column` holds `value` anywhere (case as stored: lower both sides to ignore case)."""
    return column.like(f"%{escape_like(value)}%", escape=ESCAPE)


def starts_with(column: SQLColumnExpression[str], value: str) -> ColumnElement[bool]:
    """`column` begins with `value`."""
    return column.like(f"{escape_like(value)}%", escape=ESCAPE)
