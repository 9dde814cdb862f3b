"""All SQL about referrals."""

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Text,
    and_,
    bindparam,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.selectable import CTE

from referral_api.audit import trail
from referral_api.linkage.models import ReferralLink
from referral_api.linkage.repository import (
    ShownLink,
    person_lock_key,
    shown_link,
    shown_links_of,
)
from referral_api.messages.models import HeldMessage
from referral_api.people.models import PersonIdentifier
from referral_api.referrals.access import EVERY_ORGANISATION, Reach
from referral_api.referrals.models import Referral, ReferralIdentifier, ReferralReason
from referral_api.referrals.search import ReferralFilter
from referral_api.rendering.service_request import subject_identifier_of
from signpost_platform.audit import AuditEvent
from signpost_platform.binds import Binds, Literals, bound
from signpost_platform.db import (
    AnySelect,
    DriverStatement,
    Repository,
    Write,
    commits_each_statement,
    dialect_of,
    execute_core,
    lock_keys,
    replace_version,
)
from signpost_platform.fhir.search import (
    ShapedRange,
    ShapedToken,
    date_condition,
    shaped_range,
    shaped_token,
    token_condition,
)
from signpost_platform.paging import (
    PageStatements,
    empty_page_total,
    run_page,
    sorted_page_statements,
)
from signpost_schemas import systems


@dataclass(frozen=True, slots=True)
class StoredReferral:
    id: str
    version: int
    last_updated_at: datetime
    resource: str


@dataclass(frozen=True, slots=True)
class ReferralColumns:
    """The searchable columns of a referral, derived from its resource."""

    status: str
    intent: str
    nhs_number: str | None
    requester_ods: str
    received_by_role: str
    source_of_referral_system: str
    source_of_referral_code: str
    authored_at: datetime
    source_of_referral_group: str | None = None
    receiver_ods: str | None = None
    priority: str | None = None
    # The person (people.identity); None leaves the stored one as it is.
    person_key: str | None = None


@dataclass(frozen=True, slots=True)
class ReasonRow:
    system: str
    code: str
    text: str | None
    group: str | None = None


@dataclass(frozen=True, slots=True)
class ReferralForUpdate:
    """A referral with what message processing needs to decide and re-render."""

    stored: StoredReferral
    nhs_number: str | None
    received_by_role: str
    authored_at: datetime
    status: str
    source_system: str
    source_updated_at: datetime | None
    requester_ods: str
    receiver_ods: str | None
    person_key: str

    @property
    def subject(self) -> tuple[str, str] | None:
        """(system, value) of the person the stored referral names in `subject.identifier`:
        its NHS number column when it has one (the column holds the subject's NHS number and
        nothing else), else read from the stored resource."""
        if self.nhs_number is not None:
            return systems.NHS_NUMBER, self.nhs_number
        return subject_identifier_of(self.stored.resource)


_STORED = (Referral.id, Referral.version, Referral.last_updated_at, Referral.resource)

# Built once for the message path: constructing a statement costs more than running it.
FOR_UPDATE_COLUMNS = (
    *_STORED,
    Referral.nhs_number,
    Referral.received_by_role,
    Referral.authored_at,
    Referral.status,
    Referral.source_system,
    Referral.source_updated_at,
    Referral.requester_ods,
    Referral.receiver_ods,
    Referral.person_key,
)
_FOR_UPDATE = DriverStatement(
    select(*FOR_UPDATE_COLUMNS)
    .where(Referral.id == bindparam("key"))
    .with_for_update(key_share=True)
)


def referral_for_update(row: Sequence[Any]) -> ReferralForUpdate:
    """A `ReferralForUpdate` from a row whose first columns are `FOR_UPDATE_COLUMNS`."""
    return ReferralForUpdate(StoredReferral(*row[:4]), *row[4 : len(FOR_UPDATE_COLUMNS)])


_OWNER = select(ReferralIdentifier.referral_id).where(
    ReferralIdentifier.identifier_system == bindparam("system"),
    ReferralIdentifier.identifier_value == bindparam("value"),
)
# Written with others (`execute_writes`): every value a named parameter, prefixed so the names
# meet no other statement's.
_RENDERED = (
    update(Referral)
    .where(
        Referral.id == bindparam("rendered_id"),
        Referral.version == bindparam("rendered_expected_version"),
    )
    .values(
        version=bindparam("rendered_version"),
        last_updated_at=bindparam("rendered_at", type_=Referral.last_updated_at.type),
        resource=bindparam("rendered_resource"),
        status=bindparam("rendered_status"),
        source_updated_at=func.coalesce(
            bindparam("rendered_source_updated_at", type_=Referral.source_updated_at.type),
            Referral.source_updated_at,
        ),
    )
)
_MOVE_TIMESTAMP = (
    update(Referral)
    .where(Referral.id == bindparam("moved_id"))
    .values(
        source_updated_at=bindparam(
            "moved_source_updated_at", type_=Referral.source_updated_at.type
        )
    )
)
_INSERT_REFERRAL = insert(Referral)
_INSERT_IDENTIFIERS = insert(ReferralIdentifier)
_INSERT_REASONS = insert(ReferralReason)


@dataclass(frozen=True, slots=True)
class Neighbours:
    """What the insert of a referral found around it, so that a create skips work it does not
    need: whether its person has another referral or a link (else there is nothing to relink),
    and whether a message is held for one of its identifiers (else nothing to release)."""

    person_known: bool
    held: bool


_INSERTED_COLUMNS = (
    "id",
    "version",
    "created_at",
    "last_updated_at",
    "resource",
    "source_system",
    "source_updated_at",
    "person_key",
    "status",
    "intent",
    "nhs_number",
    "requester_ods",
    "receiver_ods",
    "received_by_role",
    "priority",
    "source_of_referral_system",
    "source_of_referral_code",
    "source_of_referral_group",
    "authored_at",
)


def _neighbours_of(
    referral_id: Any, person_key: Any, identifiers: Any
) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(person known, held): another referral or a link of the person; a message held for one
    of the identifiers (`identifiers`: a selectable of (system, value)).

    PostgreSQL's function `referral_lock_and_look` (migration 7b2d4e9f1a63) reads `held` the
    same way for a create written by one statement of its own (`_LOOK`): a change here is a
    change there, in a new migration. In place of `person known` it reads whether the person has
    a referral the new one could be linked to."""
    person_known = or_(
        exists().where(Referral.person_key == person_key, Referral.id != referral_id),
        exists().where(ReferralLink.person_key == person_key),
    )
    held = exists().where(
        tuple_(HeldMessage.identifier_system, HeldMessage.identifier_value).in_(identifiers)
    )
    return person_known, held


def _insert_with_children(look: CTE | None = None) -> Select[bool, bool]:
    """PostgreSQL: a referral, its identifiers and its reasons in one statement (data-modifying
    CTEs; the children's foreign keys are checked at the end of the statement), answering its
    `Neighbours`. The statement's snapshot is the one the person's and the identifiers' locks
    were taken before, and it cannot see the row it inserts.

    With `look` (`_LOOK`: the locks taken, and what the create might link or release read after
    them, in this statement), the referral, its children and its audit event are written only
    when there is nothing, and the statement answers what `look` read."""
    columns = Referral.__table__.c
    values = {name: bindparam(name, type_=columns[name].type) for name in _INSERTED_COLUMNS}
    if look is None:
        inserted = insert(Referral).values(values)
    else:
        alone = select(*values.values()).where(~look.c.linkable, ~look.c.held)
        inserted = insert(Referral).from_select(list(values), alone)
    referral = inserted.returning(Referral.id).cte("new_referral")

    def given_identifiers(name: str) -> Any:
        return (
            func.unnest(
                bindparam("identifier_systems", type_=ARRAY(String)),
                bindparam("identifier_values", type_=ARRAY(String)),
            )
            .table_valued("system", "value")
            .render_derived(name=name)
        )

    identifiers = given_identifiers("given_identifier")
    identifier_rows = (
        insert(ReferralIdentifier)
        .from_select(
            ["identifier_system", "identifier_value", "referral_id"],
            select(identifiers.c.system, identifiers.c.value, referral.c.id).select_from(
                identifiers.join(referral, true())  # one new referral: no join condition
            ),
        )
        .cte("new_identifiers")
    )
    reasons = (
        func.unnest(
            bindparam("reason_ranks", type_=ARRAY(Integer)),
            bindparam("reason_systems", type_=ARRAY(String)),
            bindparam("reason_codes", type_=ARRAY(String)),
            bindparam("reason_texts", type_=ARRAY(Text)),
            bindparam("reason_groups", type_=ARRAY(String)),
        )
        .table_valued("rank", "system", "code", "text", "reason_group")
        .render_derived(name="given_reason")
    )
    reason_rows = (
        insert(ReferralReason)
        .from_select(
            ["referral_id", "rank", "reason_system", "reason_code", "reason_text", "reason_group"],
            select(
                referral.c.id,
                reasons.c.rank,
                reasons.c.system,
                reasons.c.code,
                reasons.c.text,
                reasons.c.reason_group,
            ).select_from(reasons.join(referral, true())),
        )
        .cte("new_reasons")
    )
    if look is not None:
        answer = select(look.c.linkable, look.c.held)
        return trail.writing(
            answer.add_cte(referral, identifier_rows, reason_rows), referral.c.id, rows=referral
        )
    wanted = given_identifiers("wanted_identifier")
    person_known, held = _neighbours_of(
        bindparam("id"), bindparam("person_key"), select(wanted.c.system, wanted.c.value)
    )
    return select(person_known.label("person_known"), held.label("held")).add_cte(
        referral, identifier_rows, reason_rows
    )


_INSERT_WITH_CHILDREN = DriverStatement(_insert_with_children())
# A create's locks (`ReferralRepository.lock_identifiers`), then whether the person has a
# referral the new one could be linked to and whether a message is held for one of its
# identifiers, read by the function `referral_lock_and_look` (migration 7b2d4e9f1a63) in
# snapshots taken after the locks were granted: this statement's own was taken before it waited
# for them.
_LOOK = select(
    func.referral_lock_and_look(
        bindparam("lock_keys", type_=ARRAY(String)),
        bindparam("person_key", type_=String),
        bindparam("identifier_systems", type_=ARRAY(String)),
        bindparam("identifier_values", type_=ARRAY(String)),
        bindparam("received_by_role", type_=String),
        bindparam("authored_at", type_=Referral.__table__.c.authored_at.type),
        bindparam("linkage_window_days", type_=Integer),
    )
    .table_valued("linkable", "held")
    .render_derived(name="looked")
).cte("look")
# The create of a referral that is its own transaction: locks, looks, and the referral with its
# children and audit event only when it has nothing to link or release
# (`ReferralRepository.insert_alone`).
_INSERT_ALONE = DriverStatement(_insert_with_children(_LOOK))
# The same with the create's audit event, which names the new referral.
_INSERT_WITH_CHILDREN_AND_EVENT = DriverStatement(
    trail.writing(_insert_with_children(), bindparam("id"))
)


# Statements are built once per reach (an organisation, or every one): building one costs more
# than running it. The cache is bounded; a reach past the bound is built again when it returns.
@functools.lru_cache(maxsize=1024)
def _by_id(reach: Reach) -> AnySelect:
    """The referral with id `key`, if within `reach`."""
    return select(*_STORED).where(Referral.id == bindparam("key"), *reach.conditions())


@functools.lru_cache(maxsize=1024)
def _recorded_by_id(reach: Reach) -> DriverStatement:
    """`_by_id` with its audit event written in the same statement (`AuditTrail.reading`),
    answering a row per link of the referral (its columns, then the link's), or one without.
    Run on the driver: reading a referral is the most frequent request."""
    return DriverStatement(trail.reading(_by_id(reach), _with_links))


def _with_links(found: CTE) -> AnySelect:
    links = shown_links_of(found.c.id).lateral("shown_link")
    return (
        select(found, links)
        .select_from(found.outerjoin(links, true()))
        .order_by(links.c.link_type, links.c.linked_referral_id)
    )


def _inserted(
    stored: StoredReferral,
    columns: ReferralColumns,
    source_system: str,
    source_updated_at: datetime | None,
) -> dict[str, Any]:
    """The values of a new referral's row (`_INSERTED_COLUMNS`)."""
    return {
        "id": stored.id,
        "version": stored.version,
        "created_at": stored.last_updated_at,
        "last_updated_at": stored.last_updated_at,
        "resource": stored.resource,
        "source_system": source_system,
        "source_updated_at": source_updated_at,
        **_column_values(columns),
    }


def _children(
    identifiers: Sequence[tuple[str, str]], reasons: Sequence[ReasonRow]
) -> dict[str, list[Any]]:
    """A new referral's identifiers and reasons as the arrays `_insert_with_children` takes."""
    ranked = list(enumerate(reasons, start=1))
    return {
        "identifier_systems": [system for system, _ in identifiers],
        "identifier_values": [value for _, value in identifiers],
        "reason_ranks": [rank for rank, _ in ranked],
        "reason_systems": [reason.system for _, reason in ranked],
        "reason_codes": [reason.code for _, reason in ranked],
        "reason_texts": [reason.text for _, reason in ranked],
        "reason_groups": [reason.group for _, reason in ranked],
    }


def _lock_keys(identifiers: Sequence[tuple[str, str]], person_keys: Sequence[str]) -> list[str]:
    """The advisory lock keys of `ReferralRepository.lock_identifiers`, in the order taken."""
    keys = [f"{system}|{value}" for system, value in sorted(set(identifiers))]
    return keys + [person_lock_key(key) for key in sorted(set(person_keys))]


class ReferralRepository(Repository):
    async def lock_identifiers(
        self, identifiers: Sequence[tuple[str, str]], *, person_keys: Sequence[str] = ()
    ) -> None:
        """Let one transaction at a time create a referral with, or hold or release a message
        about, these sender identifiers; with `person_keys`, also take those people's linkage
        locks (`linkage.repository.lock_people`) in the same round trip.

        A transaction-scoped advisory lock per identifier, taken in a fixed order (no deadlock):
        identifiers sorted, then people sorted, as every writer takes them. Without it, an
        update held just as its referral commits (by a `new` message or a REST create) would be
        missed by that create (the hold not yet visible to it) and stay held. SQLite needs
        nothing: it runs one write transaction at a time already.
        """
        await lock_keys(self.session, _lock_keys(identifiers, person_keys))

    async def get(
        self, referral_id: str, reach: Reach = EVERY_ORGANISATION
    ) -> StoredReferral | None:
        """The referral, if it exists and is within `reach`."""
        row = (await execute_core(self.session, _by_id(reach), {"key": referral_id})).first()
        return StoredReferral(*row) if row else None

    async def read(
        self, referral_id: str, reach: Reach, event: AuditEvent
    ) -> tuple[StoredReferral, list[ShownLink] | None] | None:
        """The referral, if it exists and is within `reach`, with `event` written when it is.

        In a read session on PostgreSQL one statement reads the referral and its links and
        writes the event (one round trip); elsewhere the event is written after the read and
        the links are not read (None)."""
        if not commits_each_statement(self.session):
            stored = await self.get(referral_id, reach)
            if stored is None:
                return None
            await trail.write(self.session, event)
            return stored, None
        rows = await _recorded_by_id(reach).fetch(
            self.session, {"key": referral_id, **trail.event_parameters(event)}
        )
        if not rows:
            return None
        links = [shown_link(row[len(_STORED) :]) for row in rows if row[len(_STORED)] is not None]
        return StoredReferral(*rows[0][: len(_STORED)]), links

    async def parties(self, referral_id: str) -> tuple[str, str | None]:
        """The referral's requester and receiving organisation."""
        row = (
            await execute_core(
                self.session,
                select(Referral.requester_ods, Referral.receiver_ods).where(
                    Referral.id == referral_id
                ),
            )
        ).one()
        return row[0], row[1]

    async def person_of(self, referral_id: str) -> str:
        """The person key the referral is filed under."""
        statement = select(Referral.person_key).where(Referral.id == referral_id)
        return (await execute_core(self.session, statement)).scalar_one()  # type: ignore[no-any-return]

    async def for_update(self, referral_id: str) -> ReferralForUpdate | None:
        """The referral, locked until the transaction ends on PostgreSQL (SQLite serialises
        writers with BEGIN IMMEDIATE), so concurrent messages for it apply one after another."""
        rows = await _FOR_UPDATE.fetch(self.session, {"key": referral_id})
        return referral_for_update(rows[0]) if rows else None

    async def ids_by_identifiers(self, identifiers: Sequence[tuple[str, str]]) -> list[str]:
        """The referrals that own any of `identifiers` (normally one)."""
        if len(identifiers) == 1:
            system, value = identifiers[0]
            rows = await execute_core(self.session, _OWNER, {"system": system, "value": value})
            return list(rows.scalars())
        return sorted(set(await self.owners_of_identifiers(identifiers)))

    @staticmethod
    def rendered(
        stored: StoredReferral,
        expected_version: int,
        status: str,
        source_updated_at: datetime | None = None,
    ) -> Write:
        """The write of a new rendering of a referral (lifecycle or links changed), if it is
        still at `expected_version` (it writes no row otherwise); run with `execute_writes`.

        `source_updated_at` moves the sender timestamp on (the same content was resent later)."""
        return Write(
            _RENDERED,
            {
                "rendered_id": stored.id,
                "rendered_expected_version": expected_version,
                "rendered_version": stored.version,
                "rendered_at": stored.last_updated_at,
                "rendered_resource": stored.resource,
                "rendered_status": status,
                "rendered_source_updated_at": source_updated_at,
            },
        )

    @staticmethod
    def source_timestamp_moved(referral_id: str, source_updated_at: datetime) -> Write:
        """The write moving a referral's sender timestamp on; run with `execute_writes`."""
        return Write(
            _MOVE_TIMESTAMP, {"moved_id": referral_id, "moved_source_updated_at": source_updated_at}
        )

    async def id_by_identifier(self, system: str, value: str) -> str | None:
        statement = select(ReferralIdentifier.referral_id).where(
            ReferralIdentifier.identifier_system == system,
            ReferralIdentifier.identifier_value == value,
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def owners_of_identifiers(
        self, identifiers: Sequence[tuple[str, str]], *, excluding: str | None = None
    ) -> list[str]:
        if not identifiers:
            return []
        statement = select(ReferralIdentifier.referral_id).where(
            or_(
                *(
                    and_(
                        ReferralIdentifier.identifier_system == system,
                        ReferralIdentifier.identifier_value == value,
                    )
                    for system, value in identifiers
                )
            )
        )
        if excluding:
            statement = statement.where(ReferralIdentifier.referral_id != excluding)
        return list((await self.session.execute(statement)).scalars())

    async def insert(
        self,
        stored: StoredReferral,
        columns: ReferralColumns,
        identifiers: Sequence[tuple[str, str]],
        reasons: Sequence[ReasonRow],
        *,
        source_system: str = "api",
        source_updated_at: datetime | None = None,
        event: AuditEvent | None = None,
    ) -> Neighbours:
        """Insert a referral, its identifiers and reasons (`columns.person_key` set), and
        `event` (its audit event, naming it) when given; raises IntegrityError if an identifier
        is already used. One statement on PostgreSQL.

        Its `Neighbours` are exact for a caller that holds the person's and the identifiers'
        locks (taken before this statement): another writer of either has committed by then."""
        assert columns.person_key is not None
        values = _inserted(stored, columns, source_system, source_updated_at)
        if dialect_of(self.session) == "postgresql":
            statement = _INSERT_WITH_CHILDREN if event is None else _INSERT_WITH_CHILDREN_AND_EVENT
            (row,) = await statement.fetch(
                self.session,
                {
                    **values,
                    **(trail.event_parameters(event) if event is not None else {}),
                    **_children(identifiers, reasons),
                },
            )
            return Neighbours(row[0], row[1])
        await execute_core(self.session, _INSERT_REFERRAL, values)
        await self._insert_children(stored.id, identifiers, reasons)
        if event is not None:
            await trail.write(self.session, dataclasses.replace(event, resource_id=stored.id))
        person_known, held = _neighbours_of(
            stored.id,
            columns.person_key,
            select(HeldMessage.identifier_system, HeldMessage.identifier_value).where(
                or_(
                    false(),
                    *(
                        and_(
                            HeldMessage.identifier_system == system,
                            HeldMessage.identifier_value == value,
                        )
                        for system, value in identifiers
                    ),
                )
            ),
        )
        row = (await execute_core(self.session, select(person_known, held))).one()
        return Neighbours(bool(row[0]), bool(row[1]))

    async def insert_alone(
        self,
        stored: StoredReferral,
        columns: ReferralColumns,
        identifiers: Sequence[tuple[str, str]],
        reasons: Sequence[ReasonRow],
        event: AuditEvent,
        linkage_window_days: int,
    ) -> bool:
        """PostgreSQL, in a session that has not begun: insert a referral (`columns.person_key`
        set), its identifiers, reasons and audit `event` in one statement that is its own
        transaction, if it could not be linked to another of its person's referrals (see
        migration 7b2d4e9f1a63: none to another role made within `linkage_window_days` of it,
        none to its role that has ended) and no message is held for its identifiers; True when
        it did (committed: it has no links, and its person's links are unchanged), False when it
        wrote nothing (the caller then creates it with `lock_identifiers` and `insert`, which do
        what such neighbours need). Raises IntegrityError, writing nothing, if an identifier is
        already used.

        The statement takes the locks `lock_identifiers` takes (the identifiers' and the
        person's) before it looks, and looks in snapshots taken after they were granted, so a
        writer of the person or the identifiers that held them has committed and is seen."""
        assert columns.person_key is not None
        (row,) = await _INSERT_ALONE.fetch_alone(
            self.session,
            {
                **_inserted(stored, columns, "api", None),
                **_children(identifiers, reasons),
                **trail.event_parameters(event),
                "lock_keys": _lock_keys(identifiers, [columns.person_key]),
                "linkage_window_days": linkage_window_days,
            },
        )
        return not (row[0] or row[1])

    async def update(
        self,
        stored: StoredReferral,
        expected_version: int,
        columns: ReferralColumns,
        identifiers: Sequence[tuple[str, str]],
        reasons: Sequence[ReasonRow],
        *,
        source_updated_at: datetime | None = None,
    ) -> bool:
        """Replace a referral if it is still at `expected_version`; False if it moved on.

        `source_updated_at` is the sender's timestamp of the new content (messages only)."""
        extra = {"source_updated_at": source_updated_at} if source_updated_at else {}
        result = await self.session.execute(
            replace_version(Referral, stored, expected_version).values(
                **_column_values(columns), **extra
            )
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        await self.session.execute(
            delete(ReferralIdentifier).where(ReferralIdentifier.referral_id == stored.id)
        )
        await self.session.execute(
            delete(ReferralReason).where(ReferralReason.referral_id == stored.id)
        )
        await self._insert_children(stored.id, identifiers, reasons)
        return True

    async def _insert_children(
        self, referral_id: str, identifiers: Sequence[tuple[str, str]], reasons: Sequence[ReasonRow]
    ) -> None:
        if identifiers:
            await execute_core(
                self.session,
                _INSERT_IDENTIFIERS,
                [
                    {"referral_id": referral_id, "identifier_system": s, "identifier_value": v}
                    for s, v in identifiers
                ],
            )
        await execute_core(
            self.session,
            _INSERT_REASONS,
            [
                {
                    "referral_id": referral_id,
                    "rank": rank,
                    "reason_system": reason.system,
                    "reason_code": reason.code,
                    "reason_text": reason.text,
                    "reason_group": reason.group,
                }
                for rank, reason in enumerate(reasons, start=1)
            ],
        )

    async def search(
        self, search: ReferralFilter, reach: Reach = EVERY_ORGANISATION
    ) -> tuple[int | None, list[StoredReferral]]:
        """A page of the referrals `search` finds within `reach`: its statement is built once
        per shape of search (`referral_shape`) and reused for every search of that shape."""
        binds = Binds()
        shape = referral_shape(search, binds, reach)
        total, rows = await run_page(
            self.session,
            _search_statements(shape, tuple(search.sort), search.with_total),
            count=search.count,
            offset=search.offset,
            values=binds.values,
        )
        return total, [StoredReferral(*row) for row in rows]

    async def search_recorded(
        self, search: ReferralFilter, reach: Reach, event: AuditEvent, *, naming_ids: bool
    ) -> tuple[int | None, list[StoredReferral], list[ShownLink] | None]:
        """`search`'s page (its total, its referrals) with `event` written: naming the ids of
        the page when `naming_ids`.

        In a read session on PostgreSQL one statement reads the page and the referrals' links
        and writes the event (one round trip; a page past the last row counts its total in a
        second); elsewhere the event is written after the page and the links are not read
        (None)."""
        if not commits_each_statement(self.session):
            total, found = await self.search(search, reach)
            if naming_ids:
                event = dataclasses.replace(event, returned_ids=[r.id for r in found])
            await trail.write(self.session, event)
            return total, found, None
        binds = Binds()
        shape = referral_shape(search, binds, reach)
        key = (shape, tuple(search.sort), search.with_total)
        page = {**binds.values, "page_count": search.count, "page_offset": search.offset}
        rows = await _search_recorded(*key, naming_ids).fetch(
            self.session, {**page, **trail.event_parameters(event)}
        )
        # Each row: the referral, its total when counted, its sort keys, then a link.
        links_at = len(_STORED) + search.with_total + len(search.sort)
        stored: list[StoredReferral] = []
        links: list[ShownLink] = []
        for row in rows:
            if not stored or stored[-1].id != row[0]:
                stored.append(StoredReferral(*row[: len(_STORED)]))
            if row[links_at] is not None:
                links.append(shown_link(row[links_at:]))
        if not search.with_total:
            return None, stored, links
        if rows:
            return rows[0][len(_STORED)], stored, links
        statements = _search_statements(*key)
        return await empty_page_total(self.session, statements, search.offset, binds.values), [], []


def _column_values(columns: ReferralColumns) -> dict[str, object]:
    person = {"person_key": columns.person_key} if columns.person_key is not None else {}
    return {
        **person,
        "status": columns.status,
        "intent": columns.intent,
        "nhs_number": columns.nhs_number,
        "requester_ods": columns.requester_ods,
        "receiver_ods": columns.receiver_ods,
        "received_by_role": columns.received_by_role,
        "priority": columns.priority,
        "source_of_referral_system": columns.source_of_referral_system,
        "source_of_referral_code": columns.source_of_referral_code,
        "source_of_referral_group": columns.source_of_referral_group,
        "authored_at": columns.authored_at,
    }


@dataclass(frozen=True, slots=True)
class ReferralShape:
    """A referral search with its values held by `Binds`: searches of equal shapes differ only
    in their values and share one statement (`_search_statements`)."""

    ids: tuple[Any, ...]
    last_updated: tuple[ShapedRange, ...]
    identifiers: tuple[tuple[ShapedToken, ...], ...]
    # (system, value) of each person named; the system None for an NHS number (the person's key)
    patients: tuple[tuple[tuple[Any, Any], ...], ...]
    # (column name, values OR'd) of the coded parameters, in a fixed order
    coded: tuple[tuple[str, Any], ...]
    authored: tuple[ShapedRange, ...]
    reasons: tuple[tuple[ShapedToken, ...], ...]
    # the link types OR'd of each occurrence; None for any link
    linkage: tuple[Any, ...]
    reach: Reach


def referral_shape(
    search: ReferralFilter, binds: Binds, reach: Reach = EVERY_ORGANISATION
) -> ReferralShape:
    """The shape of `search` within `reach`, its values held by `binds`."""
    coded = [
        ("status", search.statuses),
        ("received_by_role", search.roles),
        ("requester_ods", search.requesters),
        ("receiver_ods", search.performers),
        ("priority", search.priorities),
    ]
    return ReferralShape(
        ids=tuple(binds.many(ids) for ids in search.ids),
        last_updated=tuple(shaped_range(binds, r) for r in search.last_updated),
        identifiers=tuple(
            tuple(shaped_token(binds, t) for t in tokens) for tokens in search.identifiers
        ),
        patients=tuple(
            tuple(
                (None, binds(value))
                if system == systems.NHS_NUMBER
                else (binds(system), binds(value))
                for system, value in people
            )
            for people in search.patients
        ),
        coded=tuple(
            (name, binds.many(values)) for name, value_lists in coded for values in value_lists
        ),
        authored=tuple(shaped_range(binds, r) for r in search.authored),
        reasons=tuple(tuple(shaped_token(binds, t) for t in tokens) for tokens in search.reasons),
        linkage=tuple(
            None if "any" in link_types else binds.many(link_types) for link_types in search.linkage
        ),
        reach=reach.shaped(binds),
    )


# A client uses a handful of shapes; the bound keeps what hostile ones can hold small (a shape of
# 50 OR'd identifiers holds about 160 KB of statement objects in the two caches: 128 hold 21 MB).
SHAPES_KEPT = 128


@functools.lru_cache(maxsize=SHAPES_KEPT)
def _search_statements(
    shape: ReferralShape, sort: tuple[tuple[str, bool], ...], with_total: bool
) -> PageStatements:
    """The page statements of every referral search of `shape`, built once."""
    conditions = [*shaped_conditions(shape), *shape.reach.conditions()]
    return sorted_page_statements(
        select(*_STORED), Referral, conditions, sort, with_total=with_total
    )


@functools.lru_cache(maxsize=SHAPES_KEPT)
def _search_recorded(
    shape: ReferralShape, sort: tuple[tuple[str, bool], ...], with_total: bool, naming_ids: bool
) -> DriverStatement:
    """`_search_statements`' page, each referral with a row per link (its columns, the total
    when `with_total`, its sort keys, then the link's) or one without, and the search's audit
    event (`AuditTrail.searching`), naming the page's ids when `naming_ids`: one PostgreSQL
    statement, built once per shape.

    The page keeps its own ORDER BY and LIMIT, so PostgreSQL sorts only the page's rows (a
    top-N sort, or an index); its sort keys come with it, and order its rows again outside."""
    keys = [getattr(Referral, name).label(f"sort_{i}") for i, (name, _) in enumerate(sort)]
    page = _search_statements(shape, sort, with_total).page.add_columns(*keys).cte("page")
    in_page_order = [
        page.c[f"sort_{i}"].desc() if descending else page.c[f"sort_{i}"].asc()
        for i, (_, descending) in enumerate(sort)
    ]
    in_page_order.append(page.c.id.asc())
    links = shown_links_of(page.c.id).lateral("shown_link")
    answer = (
        select(page, links)
        .select_from(page.outerjoin(links, true()))
        .order_by(*in_page_order, links.c.link_type, links.c.linked_referral_id)
    )
    ids = aggregate_order_by(literal(" "), *in_page_order)
    detail = select(func.string_agg(page.c.id, ids)).scalar_subquery() if naming_ids else None
    return DriverStatement(trail.searching(answer, detail))


def referral_conditions(search: ReferralFilter) -> list[ColumnElement[bool]]:
    """The conditions of `search`, its values in them (a statement built for one search)."""
    return shaped_conditions(referral_shape(search, Literals()))


def shaped_conditions(shape: ReferralShape) -> list[ColumnElement[bool]]:
    """The SQL conditions of a referral search of `shape` (without the caller's reach)."""
    conditions: list[ColumnElement[bool]] = []
    conditions += [Referral.id.in_(bound(ids)) for ids in shape.ids]
    conditions += [date_condition(Referral.last_updated_at, r) for r in shape.last_updated]
    for tokens in shape.identifiers:
        conditions.append(
            _has_token(
                ReferralIdentifier.referral_id,
                ReferralIdentifier.identifier_system,
                ReferralIdentifier.identifier_value,
                tokens,
            )
        )
    for people in shape.patients:
        conditions.append(or_(*(_person_match(system, value) for system, value in people)))
    conditions += [getattr(Referral, name).in_(bound(values)) for name, values in shape.coded]
    conditions += [date_condition(Referral.authored_at, r) for r in shape.authored]
    for tokens in shape.reasons:
        conditions.append(
            _has_token(
                ReferralReason.referral_id,
                ReferralReason.reason_system,
                ReferralReason.reason_code,
                tokens,
            )
        )
    for link_types in shape.linkage:
        linked = exists().where(ReferralLink.referral_id == Referral.id)
        if link_types is not None:
            linked = linked.where(ReferralLink.link_type.in_(bound(link_types)))
        conditions.append(linked)
    return conditions


def _person_match(system: Any, value: Any) -> ColumnElement[bool]:
    """Referrals of the person an NHS number (`system` None) or a sender's patient identifier
    names."""
    if system is None:
        same_person: ColumnElement[bool] = Referral.person_key == bound(value)
        return same_person
    return Referral.person_key.in_(
        select(PersonIdentifier.person_key).where(
            PersonIdentifier.identifier_system == bound(system),
            PersonIdentifier.identifier_value == bound(value),
        )
    )


def _has_token(
    referral_column: QueryableAttribute[str],
    system_column: QueryableAttribute[str],
    code_column: QueryableAttribute[str],
    tokens: Sequence[ShapedToken],
) -> ColumnElement[bool]:
    """The referral has a row (an identifier or reason) whose system and code match any of
    `tokens`."""
    return exists().where(
        referral_column == Referral.id,
        or_(*(token_condition(system_column, code_column, t) for t in tokens)),
    )
