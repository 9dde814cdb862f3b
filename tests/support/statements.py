"""What a request sends PostgreSQL, as the statements asyncpg is given (no mocks: the calls go
on to asyncpg)."""

from typing import Any

import asyncpg
import pytest


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement asyncpg sends to the server from now on (simple queries such as BEGIN
    and COMMIT, prepares, and statements run directly), in order: the calls go on to asyncpg."""
    statements: list[str] = []
    connection = asyncpg.connection.Connection
    for name in ("execute", "prepare", "fetch", "executemany"):
        original = getattr(connection, name)

        async def spied(self: Any, query: str, *args: Any, _original: Any = original, **kw: Any):
            statements.append(query)
            return await _original(self, query, *args, **kw)

        monkeypatch.setattr(connection, name, spied)
    return statements


def shape(statements: list[str]) -> list[str]:
    """The statements that begin or end a transaction, or that start with a WITH (the one
    statements that lock, look and write), by their first word."""
    return [
        "BEGIN" if s.lstrip().upper().startswith("BEGIN") else s.split()[0].upper().rstrip(";")
        for s in statements
        if s.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "WITH"))
    ]
