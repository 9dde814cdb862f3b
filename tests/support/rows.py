"""Reading a service's tables directly, to assert on what was (or was not) written."""

from typing import Any

from fastapi import FastAPI
from sqlalchemy import Executable, text


async def count_rows(app: FastAPI, table: str) -> int:
    async with app.state.database.engine.connect() as connection:
        statement = text(f"SELECT count(*) FROM {table}")  # noqa: S608 (a test names the table)
        return int((await connection.execute(statement)).scalar_one())


async def fetch_rows(app: FastAPI, sql: str | Executable, **params: Any) -> list[dict[str, Any]]:
    """The rows of a SELECT (SQL text or a statement), as dicts."""
    async with app.state.database.engine.connect() as connection:
        result = await connection.execute(text(sql) if isinstance(sql, str) else sql, params)
        return [dict(row._mapping) for row in result]


async def execute_sql(app: FastAPI, sql: str, **params: Any) -> None:
    """Change a service's tables directly, as a test's setup (committed)."""
    async with app.state.database.engine.begin() as connection:
        await connection.execute(text(sql), params)
