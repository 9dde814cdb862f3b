"""Write conflicts on demand, on PostgreSQL: a statement that fails once as a concurrent
transaction would make it fail, to show that a write is run again rather than lost."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import text


@asynccontextmanager
async def failing_once(
    app: FastAPI, table: str, event: str
) -> AsyncIterator[Callable[[], Awaitable[int]]]:
    """While open, the first `event` (INSERT or UPDATE) of a row of `table` in `app`'s database
    fails with SQLSTATE 40001 (a serialisation failure); every later one goes through. Yields
    how many rows it has seen so far (a sequence counts them: a sequence is not rolled back with
    the transaction that advanced it)."""
    name = f"fail_first_{table}_{event.lower()}"
    engine = app.state.database.engine
    async with engine.begin() as connection:
        await connection.execute(text(f"CREATE SEQUENCE {name}_attempts"))
        await connection.execute(
            text(
                f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF nextval('{name}_attempts') = 1 THEN
                    RAISE EXCEPTION 'could not serialize access due to concurrent update'
                      USING ERRCODE = 'serialization_failure';
                  END IF;
                  RETURN NEW;
                END $$"""
            )
        )
        await connection.execute(
            text(
                f"CREATE TRIGGER {name} BEFORE {event} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {name}()"
            )
        )

    async def attempts() -> int:
        async with engine.connect() as connection:
            statement = text(f"SELECT last_value, is_called FROM {name}_attempts")  # noqa: S608 (names from the test)
            last_value, is_called = (await connection.execute(statement)).one()
            return int(last_value) if is_called else 0

    try:
        yield attempts
    finally:
        async with engine.begin() as connection:
            await connection.execute(text(f"DROP TRIGGER {name} ON {table}"))
            await connection.execute(text(f"DROP FUNCTION {name}()"))
            await connection.execute(text(f"DROP SEQUENCE {name}_attempts"))
