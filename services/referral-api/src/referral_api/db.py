"""The ORM base of referral-api's own database."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.base import Executable

from signpost_platform.db import service_metadata


class Base(DeclarativeBase):
    metadata = service_metadata()


async def execute_core(session: AsyncSession, statement: Executable, params: Any = None) -> Any:
    """Run a Core statement on the session's connection and transaction.

    The hot paths use statements built once with bind parameters; going through the ORM
    execution layer adds nothing for them and costs about a third of their CPU.
    """
    connection = await session.connection()
    return await connection.execute(statement, params)
