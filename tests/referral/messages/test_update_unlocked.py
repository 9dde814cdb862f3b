"""The usual update message read, then written, without a lock held in between (PostgreSQL).

One statement reads the replay check, the referral and its summary and the version held of the
message's one resource, without locks; the message is applied from that alone and its writes run
as one statement of their own, guarded by the referral and its summary being as they were read.
When they moved on, nothing of it is written and the message is processed again with the
referral locked from its first statement. And that statement, which waits for the lock, must
read the version held as the writer it waited for left it.
"""

import asyncio
import re

import pytest
from sqlalchemy import text

from referral_api.messages.repository import MessageRepository
from tests.referral.conftest import send
from tests.support.databases import someone_waits_for_a_lock
from tests.support.messages import contact, emis_service_request, message, new_referral, task
from tests.support.rows import count_rows, fetch_rows
from tests.support.statements import shape

pytestmark = pytest.mark.postgres_only

SUMMARY = "SELECT contact_count, status FROM referral_lifecycle"


async def unlocked(client) -> dict[str, float]:
    """The counts of update messages tried without a lock, by how the try ended (/metrics)."""
    counts = {}
    for labels, count in re.findall(
        r"^signpost_unlocked_messages_total\{([^}]*)\} (\S+)$",
        (await client.get("/metrics")).text,
        re.MULTILINE,
    ):
        named = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        if named["service"] == "referral":
            counts[named["outcome"]] = float(count)
    return counts


def tried(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: v - before.get(k, 0.0) for k, v in after.items() if v != before.get(k, 0.0)}


def contact_message(contact_id: str, day: int) -> dict:
    sent = contact(contact_id, f"2026-10-{day:02d}T10:00:00Z")
    return message(emis_service_request(), sent, timestamp=f"2026-10-{day:02d}T12:00:00Z")


async def test_a_new_contact_is_read_then_written_by_two_statements_of_their_own(
    client, referral_app, sent
):
    assert (await send(client, new_referral(timestamp="2026-10-01T09:00:00Z"))).status_code == 200
    before = await unlocked(client)
    sent.clear()

    response = await send(client, contact_message("c1", 5))

    assert response.status_code == 200, response.text
    assert shape(sent) == ["WITH", "WITH"]  # no BEGIN, no COMMIT, no statement between
    assert "FOR NO KEY UPDATE" not in sent[0] and "INSERT INTO contact " in sent[1]
    assert await fetch_rows(referral_app, SUMMARY) == [{"contact_count": 1, "status": "received"}]
    events = await fetch_rows(
        referral_app, "SELECT resource_id FROM audit_event WHERE action = 'process'"
    )
    [referral] = await fetch_rows(referral_app, "SELECT id, version FROM referral")
    # The new referral's event, then the update's; the update rendered the referral again.
    assert [e["resource_id"] for e in events] == [referral["id"]] * 2
    assert referral["version"] == 2
    sent.clear()
    # A resend is answered from the one read.
    again = await send(client, contact_message("c1", 5))
    assert (again.status_code, again.content) == (200, response.content)
    assert shape(sent) == ["WITH"]
    # Another message under the same Bundle.id (the same timestamp) is refused from the read.
    assert (await send(client, contact_message("c9", 5))).status_code == 409
    assert tried(before, await unlocked(client)) == {"applied": 1, "resent": 1, "refused": 1}


async def test_a_message_the_read_alone_cannot_apply_goes_the_locked_way_from_the_start(
    client, referral_app, sent
):
    assert (await send(client, new_referral(timestamp="2026-10-01T09:00:00Z"))).status_code == 200
    sent.clear()
    accepted = task("t1", "accepted", accepted="2026-10-02")

    response = await send(
        client, message(emis_service_request(), accepted, timestamp="2026-10-02T10:00:00Z")
    )

    # A Task's first version is written on its own: no unlocked read first, done for nothing.
    assert response.status_code == 200, response.text
    assert shape(sent)[0] == "BEGIN" and shape(sent)[-1] == "COMMIT"
    assert await fetch_rows(referral_app, SUMMARY) == [{"contact_count": 0, "status": "accepted"}]


# Messages processed whole between another message's read and its writes: a contact, which
# renders the referral again (a new version), and the unchanged ServiceRequest sent again later,
# which only moves the referral's sender timestamp on (its version stays).
MEANWHILE = {
    "contact": contact_message("c2", 6),
    "later copy": message(emis_service_request(), timestamp="2026-10-07T12:00:00Z"),
}


@pytest.mark.parametrize("meanwhile", sorted(MEANWHILE))
async def test_a_referral_moved_on_after_the_read_leaves_nothing_written_then_applies_locked(
    client, referral_app, sent, monkeypatch, meanwhile
):
    assert (await send(client, new_referral(timestamp="2026-10-01T09:00:00Z"))).status_code == 200
    # Between the first message's read and its writes, a second message about the referral is
    # processed whole (the same way: read, then guarded writes).
    record_guarded = MessageRepository.record_guarded
    others: list[int] = []

    async def second_message_first(self, *args, **kwargs):
        if not others:
            others.append(0)  # the second message's own writes go straight on
            others[0] = (await send(client, MEANWHILE[meanwhile])).status_code
        return await record_guarded(self, *args, **kwargs)

    monkeypatch.setattr(MessageRepository, "record_guarded", second_message_first)
    before = await unlocked(client)
    sent.clear()

    response = await send(client, contact_message("c1", 5))

    assert (response.status_code, others) == (200, [200])
    assert tried(before, await unlocked(client)) == {"applied": 1, "moved-on": 1}
    # The first message's read; the second's read and writes; the first's guarded writes,
    # refused whole; then the first again, with its referral locked from its first statement.
    assert shape(sent) == ["WITH", "WITH", "WITH", "WITH", "BEGIN", "WITH", "WITH", "COMMIT"]
    contacts = 2 if meanwhile == "contact" else 1
    assert await count_rows(referral_app, "contact") == contacts
    assert await fetch_rows(referral_app, SUMMARY) == [
        {"contact_count": contacts, "status": "received"}
    ]
    [referral] = await fetch_rows(referral_app, "SELECT source_updated_at FROM referral")
    latest = "2026-10-06T12:00:00" if meanwhile == "contact" else "2026-10-07T12:00:00"
    assert referral["source_updated_at"].isoformat().startswith(latest)
    assert await count_rows(referral_app, "processed_message") == 3


async def test_the_locked_statement_reads_the_version_the_writer_it_waited_for_left(
    client, referral_app
):
    assert (await send(client, new_referral(timestamp="2026-10-01T09:00:00Z"))).status_code == 200
    accepted = task("t1", "accepted", accepted="2026-10-02")
    first = message(emis_service_request(), accepted, timestamp="2026-10-02T10:00:00Z")
    assert (await send(client, first)).status_code == 200
    database = referral_app.state.database
    # A writer holds the referral and its summary locked and replaces the Task with a version
    # newer than the message below, which arrives meanwhile and must come out superseded.
    async with database.sessionmaker() as holder:
        await holder.execute(
            text(
                "SELECT 1 FROM referral JOIN referral_lifecycle ON referral_id = id "
                "FOR NO KEY UPDATE OF referral, referral_lifecycle"
            )
        )
        await holder.execute(
            text(
                "UPDATE referral_task SET as_of = '2026-10-09T10:00:00Z', "
                "content_hash = 'newer', version = version + 1"
            )
        )
        in_progress = task("t1", "in-progress", accepted="2026-10-02")
        older = message(emis_service_request(), in_progress, timestamp="2026-10-05T10:00:00Z")
        sending = asyncio.create_task(send(client, older))
        await someone_waits_for_a_lock(database, "transactionid")
        await holder.commit()
    response = await sending

    assert response.status_code == 200, response.text
    [held] = await fetch_rows(referral_app, "SELECT content_hash, version FROM referral_task")
    assert held == {"content_hash": "newer", "version": 2}
