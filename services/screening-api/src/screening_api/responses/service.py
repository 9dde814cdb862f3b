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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from screening_api.access import Reach
from screening_api.handoff.referral import (
    SCREENING_REFERRAL_IDENTIFIER,
    PositiveScreen,
    referral_message,
)
from screening_api.handoff.repository import PENDING, HandoffRepository
from screening_api.observations.extraction import extract_observations
from screening_api.observations.repository import ObservationRepository
from screening_api.questionnaires.catalogue import QuestionnaireCatalogue
from screening_api.questionnaires.tools import Screen, ScreeningTool
from screening_api.responses.outcome import Outcome, outcome_of
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
    SignpostError,
    require_url_id,
)
from signpost_platform.fhir.preconditions import stale_version
from signpost_platform.fhir.responses import instant
from signpost_platform.fhir.search import Token
from signpost_schemas import systems
from signpost_schemas.fhir.screening_response import (
    SCREENING_RESPONSE_PROFILE,
    Clinic,
    ContextProblem,
    ScreeningContext,
    ScreeningResponse,
    author_clinic,
    clinic_of,
    screening_context,
)
from signpost_schemas.fhir.service_request import AUTHORED_CLOCK_SKEW
from signpost_schemas.questionnaire import answers_by_link_id, validate_response

ACCEPTED_STATUSES = ("in-progress", "completed")


@dataclass(frozen=True, slots=True)
class Submission:
    response: StoredResponse
    created: bool
    outcome: Outcome | None


@dataclass(frozen=True, slots=True)
class Filing:
    """Who files a response and where its referral goes."""

    reach: Reach
    # The caller's own organisation (the token's ODS claim), the clinic when none is named.
    organisation: str | None
    # Clinic ODS code -> the ODS code of the social-prescribing team that receives its referrals.
    routes: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class _Checked:
    tool: ScreeningTool
    context: ScreeningContext
    clinic: Clinic
    # When the screen was given: `authored`, no later than its receipt (else the receipt).
    screened_at: datetime


def check(
    catalogue: QuestionnaireCatalogue,
    resource: ScreeningResponse,
    caller_organisation: str | None,
    now: datetime,
) -> _Checked:
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
    author = author_clinic(resource)
    clinic: Clinic | ContextProblem | None = None
    for problem in (context, author):
        if isinstance(problem, ContextProblem):
            issues.append(_issue(problem.code, problem.expression, problem.diagnostics))
    if isinstance(context, ScreeningContext) and not isinstance(author, ContextProblem):
        clinic = clinic_of(context, author, caller_organisation)
        if isinstance(clinic, ContextProblem):
            issues.append(_issue(clinic.code, clinic.expression, clinic.diagnostics))
    authored_at = _authored(resource.authored)
    if authored_at is not None and authored_at > now + AUTHORED_CLOCK_SKEW:
        issues.append(
            _issue(
                "business-rule",
                "QuestionnaireResponse.authored",
                f"{resource.authored} is in the future",
            )
        )
    resolution = catalogue.resolve(resource.questionnaire)
    if resolution.tool is None:
        issues.append(
            _issue("not-found", "QuestionnaireResponse.questionnaire", str(resolution.problem))
        )
    else:
        for broken in validate_response(resolution.tool.questionnaire, resource):
            issues.append(Issue(broken.code, broken.diagnostics, [broken.expression]))
    if issues:
        raise SignpostError(422, issues)
    assert resolution.tool is not None and isinstance(context, ScreeningContext)
    assert isinstance(clinic, Clinic)
    screened_at = min(authored_at, now) if authored_at is not None else now
    return _Checked(resolution.tool, context, clinic, screened_at)


async def submit(
    session: AsyncSession,
    catalogue: QuestionnaireCatalogue,
    resource: ScreeningResponse,
    if_none_exist: Token | None,
    filing: Filing,
) -> Submission:
    """Store a new response (or return the one `if_none_exist` names) with its outcome."""
    reach = filing.reach
    now = datetime.now(UTC)
    checked = check(catalogue, resource, filing.organisation, now)
    _check_clinic(reach, checked.clinic)
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
    response_id = str(uuid.uuid4())
    stored = _stored(resource, checked.clinic, response_id, 1, now)
    try:
        final = await _persist(
            session, checked, resource, stored, now, filing, screen=screen, is_new=True
        )
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
    filing: Filing,
) -> Submission:
    """Replace a draft (and complete it, if the new status is completed)."""
    reach = filing.reach
    require_url_id(resource.id, response_id, "QuestionnaireResponse")
    repository = ResponseRepository(session)
    current = await repository.get(response_id, reach)
    if current is None:
        raise NotFound(f"no QuestionnaireResponse with id {response_id}")
    if current.status != "in-progress":
        raise _completed_is_final(current)
    if current.version != expected_version:
        raise stale_version("response", current.version, expected_version)
    now = datetime.now(UTC)
    checked = check(catalogue, resource, filing.organisation, now)
    _check_clinic(reach, checked.clinic)
    screen = screen_of(checked, resource)
    stored = _stored(resource, checked.clinic, response_id, current.version + 1, now)
    try:
        final = await _persist(
            session,
            checked,
            resource,
            stored,
            now,
            filing,
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
        raise stale_version(
            "response", latest.version if latest else current.version, expected_version
        )
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
    filing: Filing,
    *,
    screen: Screen | None,
    is_new: bool,
    expected_version: int | None = None,
) -> StoredResponse | None:
    """Write the response (and, if completed, all it leads to); None if a draft moved on."""
    repository = ResponseRepository(session)
    tool = checked.tool
    completed = resource.status == "completed"
    columns = ResponseColumns(
        status=resource.status,
        questionnaire_url=tool.url,
        questionnaire_version=tool.version,
        nhs_number=resource.subject.identifier.value,
        clinic_ods=checked.clinic.ods_code,
        pathway=checked.context.pathway,
        identifier_system=resource.identifier.system if resource.identifier else None,
        identifier_value=resource.identifier.value if resource.identifier else None,
        authored_at=_authored(resource.authored),
        completed_at=checked.screened_at if completed else None,
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
        receiver = filing.routes.get(checked.clinic.ods_code)
        await _record_completion(
            session, tool, screen, answers, final, columns, now, resource, receiver
        )
    return final


async def _record_completion(
    session: AsyncSession,
    tool: ScreeningTool,
    screen: Screen,
    answers: dict[str, Any],
    stored: StoredResponse,
    columns: ResponseColumns,
    now: datetime,
    resource: ScreeningResponse,
    receiver_ods: str | None,
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
    effective_at = columns.completed_at or now
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
        positive = PositiveScreen(
            response_id=stored.id,
            nhs_number=columns.nhs_number,
            clinic_ods=columns.clinic_ods,
            receiver_ods=receiver_ods,
            screen=screen,
            screened_at=effective_at,
        )
        request, value = referral_message(positive, patient=resource.patient, sent_at=now)
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


def _check_clinic(reach: Reach, clinic: Clinic) -> None:
    """A caller files only for its own clinic, unless it acts for every organisation."""
    if clinic.expression is not None:  # a clinic from the caller's own token is always its own
        reach.check_clinic(clinic.ods_code, clinic.expression)


def _authored(value: str | None) -> datetime | None:
    """`authored` as a moment: a date is its midnight (UTC); a year or month says too little."""
    if value is None:
        return None
    if "T" not in value:
        if len(value) != len("YYYY-MM-DD"):
            return None
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else None


def _stored(
    resource: ScreeningResponse, clinic: Clinic, response_id: str, version: int, at: datetime
) -> StoredResponse:
    """The response as served: server id and meta first, then the sender's content.

    A response filed under the caller's own clinic, naming none, is stored with that clinic
    as its `author`, so that what is served says where the screen was given.
    """
    body: dict[str, Any] = resource.to_fhir()
    if clinic.expression is None and "author" not in body:
        body["author"] = {
            "type": "Organization",
            "identifier": {"system": systems.ODS_ORGANIZATION, "value": clinic.ods_code},
        }
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
