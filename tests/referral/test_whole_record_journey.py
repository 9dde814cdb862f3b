"""The whole personalised-care record (issue 16), one synthetic person end to end through the
public API only: a referral from EMIS accepted; consent recorded; a care and support plan; a
shared decision making conversation with its CollaboRATE score; a personal health budget offered
then in place; contacts by two workers; service use before and after; closure. Then the messages
back to the GP (delivered to an in-process referrer endpoint, retried while it answers 503), the
new reports in JSON, CSV and SVG, and a bulk export whose NDJSON fhir.resources parses and which
leaves the person out once they withdraw consent.

The referrer endpoint and the delivery worker are those of the GP-message tests; the export
worker is run by the test, so nothing sleeps.
"""

import csv
import io
from datetime import timedelta
from typing import Any
from xml.etree import ElementTree

import httpx
import orjson
from fhir.resources.R4B import get_fhir_model_class

from referral_api.export.worker import ExportWorker
from signpost_schemas.fhir import profiles
from tests.referral.careplans.plans import care_plan
from tests.referral.conftest import READ, WRITE
from tests.referral.consent.test_consent import consent, record
from tests.referral.export.conftest import EXPORTER, files, finished, kick_off
from tests.referral.gp_messages import test_gp_messages as gp_messages
from tests.referral.gp_messages.test_gp_messages import (
    REFERRED,
    REFERRER,
    check_shape,
    gp_record_codes,
    listed,
    new,
    referral,
    send_all,
    the_message,
)
from tests.referral.lifecycle.test_personal_health_budgets import budget
from tests.referral.lifecycle.test_shared_decisions import SCORES, collaborate, conversation
from tests.referral.lifecycle.test_workers import STAFF, seen_by
from tests.referral.lifecycle.test_workers import worker as staff
from tests.reports.conftest import REPORTS, UNSUPPRESSED
from tests.support.builders import NHS_NUMBERS
from tests.support.messages import assessment, message, service_use_count, support, task

PERSON = NHS_NUMBERS[0]  # emis_patient()'s synthetic NHS number
IDENTIFIER = "EMIS-WHOLE-1"
LINK_WORKER = "LW-0042"
COACH = "HC-7"
SVG = "{http://www.w3.org/2000/svg}"

# referral-api delivering to the in-process referrer endpoint, and its clock (test_gp_messages).
referrer_endpoint = gp_messages.referrer_endpoint
gp_service = gp_messages.gp_service
gp = gp_messages.gp
clock = gp_messages.clock


def owned(body: dict[str, Any], value: str) -> dict[str, Any]:
    body["owner"] = {"type": "Practitioner", "identifier": {"system": STAFF, "value": value}}
    return body


def link_worker_task(status: str, last_modified: str, **changes: Any) -> dict[str, Any]:
    """The referral's Task as the link worker who accepted it on 2 October holds it."""
    return owned(
        task("t1", status, accepted="2026-10-02", last_modified=last_modified, **changes),
        LINK_WORKER,
    )


def phb(stage: str) -> dict[str, Any]:
    return budget(stage=stage, kind="direct-payment", band="1000-4999")


def journey_messages(request: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The referral messages of the journey, in the order they are sent, in stages."""
    accepted = link_worker_task("accepted", "2026-10-02T10:00:00Z")
    first_contact = seen_by(
        "c1",
        "2026-10-05T10:00:00Z",
        staff(LINK_WORKER, "social-prescribing-link-worker"),
        attendance="5",
    )
    offered = link_worker_task(
        "in-progress", "2026-10-06T15:00:00Z", outputs=[phb("offered"), support("debt-advice")]
    )
    coached = seen_by(
        "c2", "2026-10-12T10:00:00Z", staff(COACH, "health-and-wellbeing-coach"), attendance="5"
    )
    in_place = link_worker_task(
        "in-progress", "2026-10-20T15:00:00Z", outputs=[phb("in-place"), support("debt-advice")]
    )
    closed = link_worker_task(
        "completed",
        "2026-11-20T16:00:00Z",
        ended="2026-11-20",
        outputs=[phb("in-place"), support("debt-advice")],
        reason=(profiles.REFERRAL_CLOSURE_REASON, "needs-met"),
    )
    return [
        [new(request), message(request, accepted, timestamp="2026-10-02T10:01:00Z")],
        [
            message(
                request,
                first_contact,
                assessment("a1", "wemwbs", "baseline", "2026-10-05", total=38),
                conversation("sdm-1", performed="2026-10-05T11:00:00Z"),
                collaborate(SCORES),
                timestamp="2026-10-05T12:00:00Z",
            ),
            message(request, offered, timestamp="2026-10-06T15:01:00Z"),
            message(request, coached, timestamp="2026-10-12T12:00:00Z"),
            message(request, in_place, timestamp="2026-10-20T15:01:00Z"),
        ],
        [
            message(
                request,
                closed,
                assessment("a2", "wemwbs", "follow-up", "2026-11-18", total=49),
                timestamp="2026-11-20T16:01:00Z",
            )
        ],
    ]


async def search(client: httpx.AsyncClient, resource_type: str, **params: str) -> list[dict]:
    response = await client.get(f"/fhir/{resource_type}", params=params, headers=READ)
    assert response.status_code == 200, response.text
    return [
        e["resource"]
        for e in response.json().get("entry", [])
        if e["resource"]["resourceType"] == resource_type
    ]


async def formats(client: httpx.AsyncClient, name: str, **params: str) -> dict[str, Any]:
    """A report as JSON, its CSV's rows and its SVG's text, each checked to answer."""
    as_json = await client.get(f"/reports/{name}", params=params, headers=REPORTS)
    assert as_json.status_code == 200, as_json.text
    as_csv = await client.get(
        f"/reports/{name}", params={**params, "format": "csv"}, headers=REPORTS
    )
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"].startswith("text/csv")
    as_svg = await client.get(
        f"/reports/{name}", params={**params, "format": "svg"}, headers=REPORTS
    )
    assert as_svg.status_code == 200, as_svg.text
    assert as_svg.headers["content-type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(as_svg.text)  # noqa: S314 (our own SVG)
    assert root.tag == f"{SVG}svg"
    return {
        "json": as_json.json(),
        "csv": list(csv.DictReader(io.StringIO(as_csv.text))),
        "svg": " ".join(t for t in root.itertext() if t.strip()),
    }


async def export(
    client: httpx.AsyncClient, exporter: ExportWorker
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """A system-level export, run to the end: its manifest and its resources by type, each
    line parsed by fhir.resources."""
    status = await kick_off(client, _pseudonymise="false")
    pending = await client.get(status, headers=EXPORTER)
    assert pending.status_code == 202, pending.text
    assert "X-Progress" in pending.headers
    manifest = await finished(client, exporter, status)
    exported = await files(client, manifest)
    for resource_type, resources in exported.items():
        model = get_fhir_model_class(resource_type)
        for resource in resources:
            model.model_validate(resource)
    return manifest, exported


async def test_one_whole_personalised_care_record(gp, gp_service, clock) -> None:
    client, delivery, referrer = gp
    app = gp_service[0]
    request = referral(IDENTIFIER)
    stages = journey_messages(request)

    # The referral arrives from EMIS and is accepted by a link worker.
    await send_all(client, stages[0])
    [served] = await search(client, "ServiceRequest", identifier=IDENTIFIER)
    referral_id = served["id"]
    assert served["requester"]["identifier"]["value"] == REFERRER

    # Consent to share, recorded for the referral.
    given = await record(client, consent(PERSON, at="2026-10-02T11:00:00Z", referral=referral_id))
    assert given["status"] == "active"

    # The care and support plan: what matters to the person, a goal, an action.
    plan = care_plan(
        referral_id,
        created="2026-10-05T10:30:00Z",
        period={"start": "2026-10-05"},
        author={"type": "Practitioner", "identifier": {"system": STAFF, "value": LINK_WORKER}},
    )
    created = await client.post("/fhir/CarePlan", json=plan, headers=WRITE)
    assert created.status_code == 201, created.text

    # A shared decision, a budget offered then in place, contacts with two workers.
    await send_all(client, stages[1])

    # Service use in the six months before the referral and from it.
    for measure, before, after in (("gp-appointments", 9, 4), ("ae-attendances", 3, 1)):
        for start, end, count in (
            ("2026-04-01", "2026-09-30", before),
            ("2026-10-01", "2027-03-31", after),
        ):
            response = await client.post(
                "/fhir/Observation",
                json=service_use_count(referral_id, measure, start, end, count),
                headers=WRITE,
            )
            assert response.status_code == 201, response.text

    # Closed: needs met.
    await send_all(client, stages[2])

    # Everything is read back through the API ------------------------------------------------
    [closed_referral] = await search(client, "ServiceRequest", _id=referral_id)
    assert closed_referral["status"] == "completed"
    [read_plan] = await search(client, "CarePlan", **{"based-on": f"ServiceRequest/{referral_id}"})
    assert read_plan["description"] == "My garden, and getting out to see people."
    [goal] = read_plan["contained"]
    assert goal["description"]["coding"][0]["code"] == "422650009"
    assert read_plan["author"]["identifier"]["value"] == LINK_WORKER
    [procedure] = await search(client, "Procedure", **{"based-on": f"ServiceRequest/{referral_id}"})
    assert procedure["code"]["coding"][0]["code"] == "sdm-conversation"
    assert procedure["performer"][0]["actor"]["identifier"]["value"] == COACH
    assert "display" not in procedure["performer"][0]["actor"]  # the worker's name not kept
    observations = await search(
        client, "Observation", **{"based-on": f"ServiceRequest/{referral_id}"}
    )
    codes = sorted(o["code"]["coding"][0]["code"] for o in observations)
    assert codes == sorted(
        ["wemwbs", "wemwbs", "collaborate"] + ["gp-appointments", "ae-attendances"] * 2
    )
    [collaborate_score] = [
        o for o in observations if o["code"]["coding"][0]["code"] == "collaborate"
    ]
    items = {
        c["code"]["coding"][0]["code"]: c["valueInteger"] for c in collaborate_score["component"]
    }
    assert items == SCORES
    [task_resource] = await search(client, "Task", focus=f"ServiceRequest/{referral_id}")
    assert task_resource["status"] == "completed"
    [budget_output] = [
        o
        for o in task_resource["output"]
        if o["type"]["coding"][0]["code"] == "personal-health-budget"
    ]
    [budget_extension] = [
        e
        for e in budget_output["extension"]
        if e["url"] == profiles.PERSONAL_HEALTH_BUDGET_EXTENSION
    ]
    parts = {p["url"]: p["valueCoding"]["code"] for p in budget_extension["extension"]}
    assert parts == {"stage": "in-place", "type": "direct-payment", "amountBand": "1000-4999"}
    for worker_id, contact_id in ((LINK_WORKER, "c1"), (COACH, "c2")):
        [contact] = await search(
            client, "Encounter", **{"participant.identifier": f"{STAFF}|{worker_id}"}
        )
        assert any(i["value"] == contact_id for i in contact["identifier"])
    assert [t["id"] for t in await search(client, "Task", **{"owner.identifier": LINK_WORKER})] == [
        task_resource["id"]
    ]
    [read_consent] = await search(
        client, "Consent", **{"patient.identifier": PERSON, "status": "active"}
    )
    assert read_consent["id"] == given["id"]

    # The messages back to the GP --------------------------------------------------------------
    assert (await listed(client))["total"] == 2  # accepted and closed, not yet delivered
    accepted = (await the_message(client, "accepted"))["message"]
    check_shape(accepted, "accepted", "accepted")
    assert gp_record_codes(accepted) == [REFERRED]
    closing = (await the_message(client, "closed"))["message"]
    closed_task = check_shape(closing, "closed", "completed")
    assert closed_task["statusReason"]["coding"][0]["code"] == "needs-met"
    assert gp_record_codes(closing) == []  # the referral code only on acceptance
    assert REFERRED not in str(closing)

    referrer.mode = "down"  # the referrer's endpoint answers 503
    await delivery.deliver_due()
    for event in ("accepted", "closed"):
        failing = await the_message(client, event)
        assert (failing["state"], failing["attempts"]) == ("failing", 1)
        assert "answered 503" in failing["last_error"]
    clock.shift = timedelta(hours=1)
    await delivery.deliver_due()  # still down
    assert (await the_message(client, "accepted"))["attempts"] == 2
    referrer.mode = "up"
    clock.shift = timedelta(hours=3)
    await delivery.deliver_due()
    assert (await listed(client))["total"] == 0
    assert (await listed(client, state="sent"))["total"] == 2
    assert sorted(referrer.ids()) == sorted([accepted["id"], closing["id"]])
    assert referrer.received.messages[REFERRER][accepted["id"]] == accepted
    assert referrer.received.repeats == 0

    # The reports: JSON, CSV and SVG ----------------------------------------------------------
    period = {"from": "2026-10-01", "to": "2026-11-30"}
    workers = await formats(client, "workers", **period)
    assert workers["json"]["parameters"]["group_by"] == ["role", "worker"]
    assert {(r["role"], r["worker"]) for r in workers["json"]["rows"]} == {
        ("social-prescribing-link-worker", f"{STAFF}|{LINK_WORKER}"),
        ("health-and-wellbeing-coach", f"{STAFF}|{COACH}"),
    }
    assert {r["worker"] for r in workers["csv"] if r["row_type"] == "row"} == {
        f"{STAFF}|{LINK_WORKER}",
        f"{STAFF}|{COACH}",
    }
    assert "suppressed" in workers["svg"]
    published = await client.get("/reports/workers", params=period, headers=UNSUPPRESSED)
    rows = {
        r["worker"]: (r["caseload"], r["contacts"], r["attended"]) for r in published.json()["rows"]
    }
    assert rows == {f"{STAFF}|{LINK_WORKER}": (1, 1, 1), f"{STAFF}|{COACH}": (1, 1, 1)}

    use = await formats(client, "service-use")
    measures = ["gp-appointments", "ae-attendances"]
    assert [r["measure"] for r in use["json"]["rows"]] == measures
    for row in use["json"]["rows"]:  # one person: every count is too small to publish
        assert row["pairs"] is None and "pairs" in row["suppressed"]
    assert [(r["measure"], r["pairs"]) for r in use["csv"] if r["row_type"] == "row"] == [
        (m, "*") for m in measures
    ]
    assert "GP appointments attended" in use["svg"] and "suppressed" in use["svg"]
    published = await client.get("/reports/service-use", headers=UNSUPPRESSED)
    assert {
        r["measure"]: (r["pairs"], r["total_before"], r["total_after"], r["fewer"])
        for r in published.json()["rows"]
    } == {"gp-appointments": (1, 9, 4, 1), "ae-attendances": (1, 3, 1, 1)}

    outcomes = await formats(client, "outcomes", group_by="support-group")
    assert outcomes["json"]["parameters"]["group_by"] == ["support-group"]
    # Debt advice (finance) and the personal health budget (other); a zero is published.
    assert [(r["support_group"], r["declined"]) for r in outcomes["json"]["rows"]] == [
        ("finance", 0),
        ("other", 0),
    ]
    assert [
        (r["support_group"], r["received"], r["closed"])
        for r in outcomes["csv"]
        if r["row_type"] == "row"
    ] == [("finance", "0", "*"), ("other", "0", "*")]
    assert "finance" in outcomes["svg"]
    published = await client.get(
        "/reports/outcomes", params={"group_by": "support-group"}, headers=UNSUPPRESSED
    )
    assert [
        (r["support_group"], r["referrals"], r["closed"]) for r in published.json()["rows"]
    ] == [
        ("finance", 1, 1),
        ("other", 1, 1),
    ]

    # Bulk export: NDJSON that fhir.resources parses ------------------------------------------
    exporter = ExportWorker(app.state.database, app.state.settings)
    manifest, exported = await export(client, exporter)
    assert manifest["extension"]["withdrawnConsent"] == {"referrals": 0, "people": 0}
    assert [r["id"] for r in exported["ServiceRequest"]] == [referral_id]
    assert [r["id"] for r in exported["CarePlan"]] == [read_plan["id"]]
    assert [r["id"] for r in exported["Procedure"]] == [procedure["id"]]
    assert [r["id"] for r in exported["Consent"]] == [given["id"]]
    assert {r["id"] for r in exported["Observation"]} == {o["id"] for o in observations}
    assert [r["id"] for r in exported["Task"]] == [task_resource["id"]]
    assert len(exported["Encounter"]) == 2

    # The person withdraws consent: a new export leaves them out, and counts them.
    withdrawn = consent(PERSON, status="inactive", at="2026-11-25T10:00:00Z", referral=referral_id)
    await record(client, withdrawn)
    manifest, exported = await export(client, exporter)
    assert manifest["extension"]["withdrawnConsent"] == {"referrals": 1, "people": 1}
    assert all(not resources for resources in exported.values()), orjson.dumps(exported)
