"""The rules for accepting, storing and reading screening responses.

A response is checked in full before anything is written: its questionnaire (known, not
retired), who and where (NHS number, clinic), and its answers against the questionnaire
(`signpost_schemas.questionnaire.validate_response`). Every problem found is reported at once,
each with the FHIRPath of the offending item. A completed response is then, in one transaction:
stored, its answers recorded, its Observations extracted, and, when the screen is positive and
the person wants help, a referral hand-off written to the outbox.

Drafts (`in-progress`) may be saved with questions still unanswered and replaced (PUT with
If-Match) until they are completed; a completed response is never edited.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from screening_api.access import Reach
from screening_api.handoff.referral import SCREENING_REFERRAL_IDENTIFIER, referral_request
from screening_api.handoff.repository import PENDING, HandoffRepository
from screening_api.observations.extraction import extract_observations
from screening_api.observations.repository import ObservationRepository
from screening_api.questionnaires.catalogue import QuestionnaireCatalogue
from screening_api.questionnaires.tools import Screen, ScreeningTool
from screening_api.responses.outcome import Outcome, outcome_of
from screening_api.responses.profile import (
    SCREENING_CONTEXT_EXTENSION,
    SCREENING_RESPONSE_PROFILE,
    ContextProblem,
    ScreeningContext,
    ScreeningResponse,
    screening_context,
)
from screening_api.responses.repository import (
    AnswerRow,
    ResponseColumns,
    ResponseRepository,
    StoredResponse,
)
from signpost_platform.errors import (
    BadRequest,
    Conflict,
    Issue,
    NotFound,
    PreconditionFailed,
    SignpostError,
)
from signpost_platform.fhir.responses import instant
from signpost_platform.fhir.search import Token
from signpost_schemas.questionnaire import answers_by_link_id, validate_response

ACCEPTED_STATUSES = ("in-progress", "completed")
# Where a response names its clinic (the screening-context extension).
CLINIC = f"QuestionnaireResponse.extension('{SCREENING_CONTEXT_EXTENSION}')"


@dataclass(frozen=True, slots=True)
class Submission:
    response: StoredResponse
    created: bool
    outcome: Outcome | None


@dataclass(frozen=True, slots=True)
class _Checked:
    tool: ScreeningTool
    context: ScreeningContext


def check(catalogue: QuestionnaireCatalogue, resource: ScreeningResponse) -> _Checked:
    """Every rule a response must meet, or a 422 listing every breach."""
    issues: list[Issue] = []
    if resource.status not in ACCEPTED_STATUSES:
        issues.append(
            _issue(
                "business-rule",
                "QuestionnaireResponse.status",
                f"status {resource.status} is not accepted: send in-progress (a draft) or "
                "completed",
            )
        )
    context = screening_context(resource)
    if isinstance(context, ContextProblem):
        issues.append(_issue("required", context.expression, context.diagnostics))
    resolution = catalogue.resolve(resource.questionnaire)
    if resolution.tool is None:
        issues.append(
            _issue("not-found", "QuestionnaireResponse.questionnaire", str(resolution.problem))
        )
    else:
        for problem in validate_response(resolution.tool.questionnaire, resource):
            issues.append(Issue(problem.code, problem.diagnostics, [problem.expression]))
    if issues:
        raise SignpostError(422, issues)
    assert resolution.tool is not None and isinstance(context, ScreeningContext)
    return _Checked(resolution.tool, context)


async def submit(
    session: AsyncSession,
    catalogue: QuestionnaireCatalogue,
    resource: ScreeningResponse,
    if_none_exist: Token | None,
    reach: Reach,
) -> Submission:
    """Store a new response (or return the one `if_none_exist` names) with its outcome."""
    checked = check(catalogue, resource)
    reach.check_clinic(checked.context.clinic_ods, CLINIC)
    screen = screen_of(checked, resource)
    repository = ResponseRepository(session)
    identifier = _identifier(resource)
    if if_none_exist is not None:
        if not if_none_exist.system or (if_none_exist.system, if_none_exist.code) != identifier:
            raise BadRequest(
                "If-None-Exist must be identifier=<system>|<value> naming the response's own "
                "identifier",
                expression="If-None-Exist",
            )
        existing = await _existing(session, repository, identifier, reach)
        if existing is not None:
            return existing
    now = datetime.now(UTC)
    response_id = str(uuid.uuid4())
    stored = _stored(resource, response_id, 1, now)
    try:
        final = await _persist(session, checked, resource, stored, now, screen=screen, is_new=True)
    except IntegrityError:
        await session.rollback()
        if identifier is not None:
            existing = await _existing(session, repository, identifier, reach)
            if existing is not None and if_none_exist is not None:
                return existing
        raise Conflict(
            "the identifier of this response is already used; send If-None-Exist to make the "
            "submission idempotent",
            expression="QuestionnaireResponse.identifier",
            issue_code="duplicate",
        ) from None
    assert final is not None
    return _fresh_submission(final, created=True, screen=screen)


async def update(
    session: AsyncSession,
    catalogue: QuestionnaireCatalogue,
    response_id: str,
    resource: ScreeningResponse,
    expected_version: int,
    reach: Reach,
) -> Submission:
    """Replace a draft (and complete it, if the new status is completed)."""
    if resource.id is not None and resource.id != response_id:
        raise BadRequest(
            f"the resource id ({resource.id}) must match the id in the URL ({response_id})",
            expression="QuestionnaireResponse.id",
        )
    repository = ResponseRepository(session)
    current = await repository.get(response_id, reach)
    if current is None:
        raise NotFound(f"no QuestionnaireResponse with id {response_id}")
    if current.status != "in-progress":
        raise _completed_is_final(current)
    if current.version != expected_version:
        raise _stale(current.version, expected_version)
    checked = check(catalogue, resource)
    reach.check_clinic(checked.context.clinic_ods, CLINIC)
    screen = screen_of(checked, resource)
    now = datetime.now(UTC)
    stored = _stored(resource, response_id, current.version + 1, now)
    try:
        final = await _persist(
            session,
            checked,
            resource,
            stored,
            now,
            screen=screen,
            is_new=False,
            expected_version=expected_version,
        )
    except IntegrityError:
        await session.rollback()
        raise Conflict(
            "the identifier of this response is already used by another response",
            expression="QuestionnaireResponse.identifier",
            issue_code="duplicate",
        ) from None
    if final is None:  # another request completed or replaced it since we read it
        await session.rollback()
        latest = await repository.get(response_id)
        if latest is not None and latest.status != "in-progress":
            raise _completed_is_final(latest)
        raise _stale(latest.version if latest else current.version, expected_version)
    return _fresh_submission(final, created=False, screen=screen)


async def read(session: AsyncSession, response_id: str, reach: Reach) -> Submission:
    stored = await ResponseRepository(session).get(response_id, reach)
    if stored is None:
        raise NotFound(f"no QuestionnaireResponse with id {response_id}")
    return await _submission(session, stored, created=False)


async def _persist(
    session: AsyncSession,
    checked: _Checked,
    resource: ScreeningResponse,
    stored: StoredResponse,
    now: datetime,
    *,
    screen: Screen | None,
    is_new: bool,
    expected_version: int | None = None,
) -> StoredResponse | None:
    """Write the response (and, if completed, all it leads to); None if a draft moved on."""
    repository = ResponseRepository(session)
    tool, context = checked.tool, checked.context
    completed = resource.status == "completed"
    columns = ResponseColumns(
        status=resource.status,
        questionnaire_url=tool.url,
        questionnaire_version=tool.version,
        nhs_number=resource.subject.identifier.value,
        clinic_ods=context.clinic_ods,
        pathway=context.pathway,
        identifier_system=resource.identifier.system if resource.identifier else None,
        identifier_value=resource.identifier.value if resource.identifier else None,
        authored_at=_authored(resource.authored),
        completed_at=now if completed else None,
        screen_positive=screen.screen_positive if screen else None,
        wants_help=screen.wants_help if screen else None,
    )
    final = StoredResponse(
        stored.id,
        stored.version,
        resource.status,
        stored.last_updated_at,
        columns.screen_positive,
        columns.wants_help,
        stored.resource,
    )
    if is_new:
        await repository.insert(final, columns)
    else:
        assert expected_version is not None
        if not await repository.update_draft(final, expected_version, columns):
            return None
    if screen is not None:
        answers = answers_by_link_id(resource)
        await _record_completion(session, tool, screen, answers, final, columns, now)
    return final


async def _record_completion(
    session: AsyncSession,
    tool: ScreeningTool,
    screen: Screen,
    answers: dict[str, Any],
    stored: StoredResponse,
    columns: ResponseColumns,
    now: datetime,
) -> None:
    """Answers, Observations and (if positive and wanted) the hand-off: one transaction."""
    flagged = {flag.link_id for flag in screen.flags}
    rows = []
    for item in tool.items:
        for position, answer in enumerate(answers.get(item.link_id, [])):
            coding = answer.valueCoding
            code = coding.code if coding else None
            rows.append(
                AnswerRow(
                    link_id=item.link_id,
                    position=position,
                    answer_system=coding.system if coding else None,
                    answer_code=code,
                    is_flag=item.link_id in flagged and code == item.flag_answer,
                    is_declined=code == tool.declined_answer,
                    domain=item.domain,
                )
            )
    await ResponseRepository(session).insert_answers(stored.id, rows)
    effective_at = columns.authored_at or now
    observations = extract_observations(
        tool,
        answers,
        response_id=stored.id,
        nhs_number=columns.nhs_number,
        effective_at=effective_at,
        recorded_at=now,
    )
    await ObservationRepository(session).insert_many(
        stored.id, columns.nhs_number, effective_at, observations
    )
    if screen.raise_referral:
        request, value = referral_request(
            response_id=stored.id,
            nhs_number=columns.nhs_number,
            clinic_ods=columns.clinic_ods,
            screen=screen,
            completed_at=now,
        )
        await HandoffRepository(session).add(
            stored.id, (SCREENING_REFERRAL_IDENTIFIER, value), request, now
        )


def screen_of(checked: _Checked, resource: ScreeningResponse) -> Screen | None:
    """The scored screen of a completed response (None for a draft)."""
    if resource.status != "completed":
        return None
    return checked.tool.score(answers_by_link_id(resource))


def _fresh_submission(
    stored: StoredResponse, *, created: bool, screen: Screen | None
) -> Submission:
    """The outcome of a response just written, from what was written (no read-back)."""
    if screen is None:
        return Submission(stored, created, None)
    flags = tuple(flag.domain for flag in screen.flags)
    if screen.raise_referral:
        return Submission(stored, created, Outcome(flags, True, screen.wants_help, PENDING))
    return Submission(stored, created, outcome_of(flags, screen.wants_help, None))


async def _submission(
    session: AsyncSession, stored: StoredResponse, *, created: bool
) -> Submission:
    if stored.status != "completed":
        return Submission(stored, created, None)
    domains = await ResponseRepository(session).flagged_domains(stored.id)
    handoff = await HandoffRepository(session).get(stored.id)
    return Submission(stored, created, outcome_of(tuple(domains), stored.wants_help, handoff))


async def _existing(
    session: AsyncSession,
    repository: ResponseRepository,
    identifier: tuple[str, str] | None,
    reach: Reach,
) -> Submission | None:
    """The submission `identifier` names; a Conflict if it is another clinic's."""
    if identifier is None:
        return None
    existing_id = await repository.id_by_identifier(*identifier)
    if existing_id is None:
        return None
    stored = await repository.get(existing_id, reach)
    if stored is None:
        raise Conflict(
            "the identifier of this response is already used by a response of another clinic",
            expression="QuestionnaireResponse.identifier",
            issue_code="duplicate",
        )
    return await _submission(session, stored, created=False)


def _identifier(resource: ScreeningResponse) -> tuple[str, str] | None:
    identifier = resource.identifier
    if identifier is None or not identifier.system or not identifier.value:
        return None
    return identifier.system, identifier.value


def _authored(value: str | None) -> datetime | None:
    if value is None or "T" not in value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else None


def _stored(
    resource: ScreeningResponse, response_id: str, version: int, at: datetime
) -> StoredResponse:
    """The response as served: server id and meta first, then the sender's content."""
    body: dict[str, Any] = resource.to_fhir()
    body.pop("id", None)
    body.pop("resourceType", None)
    incoming_meta = body.pop("meta", {})
    profiles = list(dict.fromkeys([SCREENING_RESPONSE_PROFILE, *incoming_meta.get("profile", [])]))
    meta: dict[str, Any] = {
        "versionId": str(version),
        "lastUpdated": instant(at),
        "profile": profiles,
    }
    if "tag" in incoming_meta:
        meta["tag"] = incoming_meta["tag"]
    document = {"resourceType": "QuestionnaireResponse", "id": response_id, "meta": meta, **body}
    return StoredResponse(
        response_id, version, resource.status, at, None, None, orjson.dumps(document).decode()
    )


def _issue(code: str, expression: str, diagnostics: str) -> Issue:
    return Issue(code, f"{expression}: {diagnostics}", [expression])


def _completed_is_final(current: StoredResponse) -> Conflict:
    return Conflict(
        f"QuestionnaireResponse/{current.id} is {current.status}; a completed response cannot "
        "be edited (submit a new response instead)",
        expression="QuestionnaireResponse.status",
        issue_code="business-rule",
    )


def _stale(current: int, expected: int) -> PreconditionFailed:
    return PreconditionFailed(
        f"If-Match names version {expected} but the current version is {current}: read the "
        "response again and reapply the change",
        expression="If-Match",
    )
