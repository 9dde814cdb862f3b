"""All SQL about invitations."""

from datetime import datetime

from sqlalchemy import insert

from screening_api.invitations.models import InvitationRecord
from signpost_platform.db import Repository


class InvitationRepository(Repository):
    async def insert(
        self,
        *,
        invitation_id: str,
        nhs_number: str,
        clinic_ods: str,
        pathway: str | None,
        questionnaire_url: str,
        questionnaire_version: str,
        invited_at: datetime,
        resource: str,
    ) -> None:
        await self.session.execute(
            insert(InvitationRecord).values(
                id=invitation_id,
                nhs_number=nhs_number,
                clinic_ods=clinic_ods,
                pathway=pathway,
                questionnaire_url=questionnaire_url,
                questionnaire_version=questionnaire_version,
                invited_at=invited_at,
                resource=resource,
            )
        )
