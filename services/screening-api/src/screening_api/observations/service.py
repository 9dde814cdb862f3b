"""Reading the Observations extracted from completed responses."""

from sqlalchemy.ext.asyncio import AsyncSession

from screening_api.access import Reach
from screening_api.observations.repository import ObservationRepository, StoredObservation
from screening_api.observations.search import observation_filter
from signpost_platform.errors import NotFound
from signpost_platform.fhir.search import SearchQuery


async def search_observations(
    session: AsyncSession, query: SearchQuery, reach: Reach
) -> tuple[int, list[StoredObservation]]:
    """The page of Observations within `reach` that `query` asks for, and their total."""
    return await ObservationRepository(session).search(observation_filter(query), reach)


async def read_observation(
    session: AsyncSession, observation_id: str, reach: Reach
) -> StoredObservation:
    """One Observation; 404 when there is none within `reach`."""
    stored = await ObservationRepository(session).get(observation_id, reach)
    if stored is None:
        raise NotFound(f"no Observation with id {observation_id}")
    return stored
