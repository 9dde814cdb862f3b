"""referral-api's hot paths in-process on PostgreSQL: CPU per operation and database round trips.

The app runs in this process (its lifespan, every middleware, a real migrated PostgreSQL) and is
called as an ASGI application (`AsgiClient`: the scope, the body and the answer's messages, as
uvicorn hands them over): no sockets, no HTTP client or server, no load generator competing for
the CPU. Every request of a round (its JSON body encoded) is made before the round's clock
starts, so the figures are the service's. Each operation is sent one at a time, N times, in
`--rounds` rounds; per operation it prints the median over the rounds of
- CPU ms (`time.process_time`: this process only, so the app and the few calls that hand it a
  request, not PostgreSQL; far less sensitive to other work on the machine than wall time), and
  of it the user ms (Python; the rest is the kernel's, mostly sending to and receiving from
  PostgreSQL, which costs about as much as a round trip's Python on a virtual machine),
- wall ms (latency, database included),
- round trips to PostgreSQL (counted in asyncpg: simple queries such as BEGIN and COMMIT,
  statement prepares, statement executions and pipelined executemany batches),
- db CPU ms: the CPU of the PostgreSQL backends serving the benchmark's database (client
  backends only: not autovacuum, not the rest of the server, which `bench.cpu` measures under
  load), read from /proc/<pid>/schedstat when PostgreSQL runs on this machine (`-` when it does
  not),
and the statements of one typical request.

Operations: create (a two-reason ServiceRequest for a new person, the bench-peer sample), create
again (the same for a person with one open referral to the same role already, made the same day:
nothing to link, as for a person bench-peer's load refers a second time), read (GET by id),
search20 (reason-code matching 50, 20 returned with total), search1 (identifier, one match),
update message ($process-message: the unchanged ServiceRequest plus one new contact, each
referral its own person). Targets from issue 13: CPU create <= 1.2 ms, read <= 0.4 ms, update
message <= 1.5 ms.
"""

import argparse
import asyncio
import copy
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import asyncpg.prepared_stmt
import uvloop
from tests.support.builders import coded_extension
from tests.support.messages import contact, emis_patient, emis_service_request, message
from tests.support.reports import synthetic_nhs_numbers

from bench.common import drop, migrated_postgres, token
from bench.generate_referrals import asyncpg_dsn
from bench.instructions import Counter, rerun_under_callgrind, under_callgrind
from referral_api.config import ReferralSettings
from referral_api.main import create_app
from signpost_schemas import systems

OPERATIONS = ["create", "create again", "read", "search20", "search1", "update message"]
TARGETS_MS = {"create": 1.2, "read": 0.4, "update message": 1.5}
SEARCHED_REASON = "733423003"  # food insecurity: in the search seed only, never in creates
SEARCH_SEED = 200
SEARCH_MATCHES = 50
MESSAGE_REFERRALS = 200
# Each new person's NHS number (the 999 test range), never the same one twice.
PEOPLE = synthetic_nhs_numbers()

# The bench-peer sample (../shared/bench-peer/signpost_servicerequest.json).
SAMPLE: dict[str, Any] = {
    "resourceType": "ServiceRequest",
    "extension": [
        coded_extension(
            systems.SOURCE_OF_SERVICE_REQUEST_EXTENSION, systems.SNOMED, "108161000000109"
        )
    ],
    "status": "active",
    "intent": "order",
    "category": [
        {
            "coding": [
                {"system": systems.SNOMED, "code": "306206005", "display": "Referral to service"}
            ]
        }
    ],
    "code": {
        "coding": [
            {
                "system": systems.SNOMED,
                "code": "871731000000106",
                "display": "Referral to social prescribing service",
            }
        ]
    },
    "reasonCode": [
        {"coding": [{"system": systems.SNOMED, "code": "105531004", "display": "Housing problem"}]},
        {
            "coding": [
                {"system": systems.SNOMED, "code": "422650009", "display": "Social isolation"}
            ]
        },
    ],
    "subject": {"identifier": {"system": systems.NHS_NUMBER, "value": "9000000009"}},
    "requester": {"identifier": {"system": systems.ODS_ORGANIZATION, "value": "F84003"}},
    "performerType": {
        "coding": [
            {"system": systems.PERSONALISED_CARE_ROLE, "code": "social-prescribing-link-worker"}
        ]
    },
    "authoredOn": "2026-11-01T10:00:00Z",
}


def referral(
    identifier: str, *, reason: str | None = None, person: str | None = None
) -> dict[str, Any]:
    """The sample with its own identifier and a new person (or `person`, an NHS number);
    `reason` replaces the second reason."""
    body = copy.deepcopy(SAMPLE)
    body["identifier"] = [{"system": "urn:bench:hot-path", "value": identifier}]
    body["subject"]["identifier"]["value"] = person or next(PEOPLE)
    if reason is not None:
        body["reasonCode"][1] = {"coding": [{"system": systems.SNOMED, "code": reason}]}
    return body


@dataclass
class RoundTrips:
    """Round trips to PostgreSQL counted in asyncpg, and the statements of the last request."""

    count: int = 0
    # (kind, query) as sent: shortened only when printed, so the counting costs next to no CPU
    # inside the measured requests.
    statements: list[tuple[str, str]] = field(default_factory=list)

    def add(self, kind: str, query: str) -> None:
        self.count += 1
        self.statements.append((kind, query))


def _short(query: str) -> str:
    words = " ".join(query.split())
    return words if len(words) <= 90 else words[:87] + "..."


@contextmanager
def counting_round_trips() -> Iterator[RoundTrips]:
    """Count every asyncpg call that waits for the server: `Connection.execute` (simple queries:
    BEGIN, COMMIT, SET), `Connection.prepare`, `PreparedStatement.fetch` (a statement run),
    `Connection.fetch` (a statement run on the driver directly, `signpost_platform.db.
    DriverStatement`; its prepare on first use is not counted, as warm-up runs it) and
    `Connection.executemany` (one pipelined batch)."""
    trips = RoundTrips()
    connection = asyncpg.connection.Connection
    statement = asyncpg.prepared_stmt.PreparedStatement
    originals = (
        connection.execute,
        connection.prepare,
        connection.executemany,
        statement.fetch,
        connection.fetch,
    )

    async def execute(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        trips.add("", query)
        return await originals[0](self, query, *args, **kwargs)

    async def prepare(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        trips.add("prepare: ", query)
        return await originals[1](self, query, *args, **kwargs)

    async def executemany(self: Any, query: str, args: Any, **kwargs: Any) -> Any:
        trips.add(f"batch of {len(args)}: ", query)
        return await originals[2](self, query, args, **kwargs)

    async def fetch(self: Any, *args: Any, **kwargs: Any) -> Any:
        trips.add("", self.get_query())
        return await originals[3](self, *args, **kwargs)

    async def fetch_on_driver(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        trips.add("", query)
        return await originals[4](self, query, *args, **kwargs)

    connection.execute, connection.prepare, connection.executemany = execute, prepare, executemany
    statement.fetch = fetch
    connection.fetch = fetch_on_driver
    try:
        yield trips
    finally:
        connection.execute, connection.prepare, connection.executemany = originals[:3]
        statement.fetch = originals[3]
        connection.fetch = originals[4]


@dataclass
class Measured:
    cpu_ms: list[float] = field(default_factory=list)
    user_ms: list[float] = field(default_factory=list)
    wall_ms: list[float] = field(default_factory=list)
    round_trips: list[float] = field(default_factory=list)
    statements: list[tuple[str, str]] = field(default_factory=list)
    instructions: list[float] = field(default_factory=list)  # per operation, under callgrind
    database_ms: list[float] = field(default_factory=list)  # PostgreSQL's CPU, when local


class DatabaseCpu:
    """CPU used by the client backends of one PostgreSQL database: nanoseconds on a CPU per
    backend, from /proc/<pid>/schedstat. `local` is False when PostgreSQL is not on this
    machine (its backends' process ids are not processes named postgres here)."""

    def __init__(self, url: str) -> None:
        self.dsn = asyncpg_dsn(url)
        self.local = True

    async def backends(self) -> dict[int, int]:
        """Each client backend's CPU so far (nanoseconds); empty when not `local`. A backend
        that ended between the query and the reading is left out."""
        if not self.local:
            return {}
        connection = await asyncpg.connect(self.dsn)
        try:
            pids = await connection.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
        finally:
            await connection.close()
        used = _backend_cpu([pid for (pid,) in pids])
        if used is None:
            self.local = False
            return {}
        return used

    @staticmethod
    def ms_between(before: dict[int, int], after: dict[int, int]) -> float:
        """The CPU ms the backends used between two readings (a new backend's all of it)."""
        return sum(used - before.get(pid, 0) for pid, used in after.items()) / 1e6


def _backend_cpu(pids: list[int]) -> dict[int, int] | None:
    """Each process's CPU so far (nanoseconds), leaving out one that has ended; None if one is
    not a PostgreSQL process of this machine, or /proc cannot be read."""
    used = {}
    for pid in pids:
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() != "postgres":
                return None
            used[pid] = int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
        except FileNotFoundError:
            continue
        except OSError:
            return None
    return used


@dataclass(frozen=True)
class Request:
    """One request as the ASGI server hands it to the app, and the status it must answer."""

    method: str
    target: str  # path and query string, as a client sends them
    body: bytes = b""
    status: int = 200


def post(target: str, document: Any, status: int = 200) -> Request:
    return Request("POST", target, json.dumps(document).encode(), status)


def get(target: str) -> Request:
    return Request("GET", target)


class AsgiClient:
    """Calls an ASGI app as a server does, with `headers` on every request."""

    def __init__(self, app: Any, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def send(self, request: Request) -> bytes:
        """The answer's body; a RuntimeError when its status is not the one expected."""
        path, _, query = request.target.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": "http",
            "server": ("referral.bench", 80),
            "client": ("127.0.0.1", 50000),
            "root_path": "",
            "path": path,
            "raw_path": path.encode(),
            # Percent-encoded as a client sends it (`|` in tokens becomes %7C).
            "query_string": quote(query, safe="=&").encode(),
            "headers": [
                (b"host", b"referral.bench"),
                (b"content-length", str(len(request.body)).encode()),
                *self.headers,
            ],
        }
        answered = asyncio.Event()
        status = 0
        chunks: list[bytes] = []
        sent_body = False

        async def receive() -> dict[str, Any]:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": request.body, "more_body": False}
            await answered.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    answered.set()

        await self.app(scope, receive, send)
        body = b"".join(chunks)
        if status != request.status:
            raise RuntimeError(f"{request.method} {request.target}: {status} {body[:300]!r}")
        return body


# Makes the `index`th request of a round (not timed).
Operation = Callable[[int], Request]


async def measure(
    client: AsgiClient,
    trips: RoundTrips,
    operation: Operation,
    n: int,
    into: Measured,
    profiler: cProfile.Profile | None = None,
    counter: Counter | None = None,
    database: DatabaseCpu | None = None,
) -> None:
    """Send `operation(i)` for i in range(n), one at a time, every request made before the
    clock starts (and before `profiler`, if any, is enabled, or `counter` zeroed); add the
    per-operation figures."""
    requests = [operation(index) for index in range(n)]
    database_before = await database.backends() if database is not None else {}
    trips.count = 0
    if profiler is not None:
        profiler.enable()
    if counter is not None:
        counter.zero()
    cpu, user, wall = time.process_time(), os.times().user, time.perf_counter()
    for request in requests:
        trips.statements = []
        await client.send(request)
    if counter is not None:
        into.instructions.append(counter.read("measured") / n)
    if profiler is not None:
        profiler.disable()
    into.cpu_ms.append((time.process_time() - cpu) * 1000 / n)
    into.user_ms.append((os.times().user - user) * 1000 / n)
    into.wall_ms.append((time.perf_counter() - wall) * 1000 / n)
    into.round_trips.append(trips.count / n)
    into.statements = list(trips.statements)
    if database is not None and database.local:
        # Read after the clocks stop, so the reading's own cost is not timed.
        database_after = await database.backends()
        if database.local:
            into.database_ms.append(DatabaseCpu.ms_between(database_before, database_after) / n)


async def run(
    database: str,
    n: int,
    rounds: int,
    profile: str | None = None,
    only: list[str] | None = None,
) -> dict[str, Measured]:
    # One request's own cost: the background workers (report facts refresh, GP messages,
    # exports) would add their statements to the round trips counted in this process. What
    # they cost a loaded service shows in the HTTP benchmarks (`referral`, `peer`).
    settings = ReferralSettings(
        database_url=database,
        log_level="WARNING",
        rate_limit_per_minute=0,
        db_pool_size=10,
        report_refresh_worker_enabled=False,
        gp_message_worker_enabled=False,
        export_worker_enabled=False,
    )
    app = create_app(settings)
    # As wrk in bench-peer: no compression (the service compresses answers over 1 KB when a
    # client asks for it).
    client = AsgiClient(
        app,
        {
            "Authorization": f"Bearer {token('referral:write', 'referral:read')}",
            "Content-Type": "application/fhir+json",
            "Accept": "application/fhir+json",
        },
    )
    async with app.router.lifespan_context(app):
        return await _drive(client, n, rounds, profile, only, DatabaseCpu(database))


async def _drive(
    client: AsgiClient,
    n: int,
    rounds: int,
    profile: str | None,
    only: list[str] | None,
    database: DatabaseCpu,
) -> dict[str, Measured]:
    counter = Counter() if under_callgrind() else None
    created: list[str] = []
    for index in range(SEARCH_SEED):
        reason = SEARCHED_REASON if index < SEARCH_MATCHES else None
        document = referral(f"seed-{index}", reason=reason)
        answer = await client.send(post("/fhir/ServiceRequest", document, 201))
        created.append(json.loads(answer)["id"])
    messages = [
        emis_service_request(f"HOT-{index}", nhs_number=next(PEOPLE))
        for index in range(MESSAGE_REFERRALS)
    ]
    for index, request in enumerate(messages):
        nhs_number = request["subject"]["identifier"]["value"]
        body = message(
            request,
            reason_code="new",
            patient=emis_patient(nhs_number),
            timestamp="2026-10-01T09:05:00Z",
            bundle_id=f"seed-{index}",
        )
        await client.send(post("/fhir/$process-message", body))
    # One person with one referral for every "create again" that will be sent (the warm-up's,
    # the rounds' and a profiled round's), so each is a person's second referral.
    known = []
    for index in range(
        min(n, 50) + n * (rounds + 1) if "create again" in (only or OPERATIONS) else 0
    ):
        document = referral(f"known-{index}")
        await client.send(post("/fhir/ServiceRequest", document, 201))
        known.append(document["subject"]["identifier"]["value"])
    people_known = iter(known)
    sent = iter(range(10_000_000))

    def create(index: int) -> Request:
        return post("/fhir/ServiceRequest", referral(f"create-{next(sent)}"), 201)

    def create_again(index: int) -> Request:
        document = referral(f"again-{next(sent)}", person=next(people_known))
        return post("/fhir/ServiceRequest", document, 201)

    def read(index: int) -> Request:
        return get(f"/fhir/ServiceRequest/{created[index % len(created)]}")

    def search20(index: int) -> Request:
        return get(f"/fhir/ServiceRequest?reason-code={SEARCHED_REASON}")

    def search1(index: int) -> Request:
        value = f"seed-{index % SEARCH_SEED}"
        return get(f"/fhir/ServiceRequest?identifier=urn:bench:hot-path|{value}")

    def update_message(index: int) -> Request:
        unique = next(sent)
        request = messages[index % len(messages)]
        body = message(
            request,
            contact(f"contact-{unique}", "2026-10-05T10:00:00Z"),
            timestamp="2026-10-05T12:00:00Z",
            bundle_id=f"update-{unique}",
        )
        return post("/fhir/$process-message", body)

    operations: dict[str, Operation] = {
        "create": create,
        "create again": create_again,
        "read": read,
        "search20": search20,
        "search1": search1,
        "update message": update_message,
    }
    results = {name: Measured() for name in operations if not only or name in only}
    if counter is not None:
        counter.start()  # the seeding ran uninstrumented; the warm-up fills callgrind's caches
    with counting_round_trips() as trips:
        for operation in operations.values():  # warm-up: caches and prepared statements
            await measure(client, trips, operation, min(n, 50), Measured())
        if profile is not None:
            profiler = cProfile.Profile(time.process_time)
            profiled = Measured()
            await measure(client, trips, operations[profile], n, profiled, profiler)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(40)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)
            return {profile: profiled}
        for _ in range(rounds):
            for name in results:
                await measure(
                    client,
                    trips,
                    operations[name],
                    n,
                    results[name],
                    counter=counter,
                    database=None if counter is not None else database,
                )
    return results


def report(results: dict[str, Measured], n: int, rounds: int, statements: bool) -> None:
    if under_callgrind():
        _report_instructions(results, n, rounds)
    else:
        _report_times(results, n, rounds)
    if statements:
        for name, figures in results.items():
            print(f"\n{name}: the {len(figures.statements)} round trips of the last request")
            for kind, query in figures.statements:
                print(f"  {kind}{_short(query)}")


def _report_instructions(results: dict[str, Measured], n: int, rounds: int) -> None:
    print(
        f"referral-api in-process on PostgreSQL under callgrind: {n} of each operation, one at "
        f"a time, {rounds} rounds; thousands of instructions per operation in each round (every "
        "thread of this process: the app, asyncpg and the few calls that hand it a request)"
    )
    print(f"{'operation':<16} {'instructions (k)':>24} {'round trips':>12}")
    for name, figures in results.items():
        counts = " ".join(f"{count / 1000:8.1f}" for count in figures.instructions)
        print(f"{name:<16} {counts:>24} {statistics.median(figures.round_trips):12.1f}")


def _report_times(results: dict[str, Measured], n: int, rounds: int) -> None:
    print(
        f"referral-api in-process on PostgreSQL: {n} of each operation, one at a time, "
        f"{rounds} rounds; medians of the rounds (min-max of CPU ms)"
    )
    print(
        f"{'operation':<16} {'CPU ms':>8} {'(range)':>15} {'user ms':>8} {'wall ms':>8} "
        f"{'round trips':>12} {'db CPU ms':>10}  target"
    )
    for name, figures in results.items():
        cpu = statistics.median(figures.cpu_ms)
        target = TARGETS_MS.get(name)
        verdict = f"CPU <= {target} ms {'MET' if cpu <= target else 'MISSED'}" if target else ""
        spread = f"({min(figures.cpu_ms):.2f}-{max(figures.cpu_ms):.2f})"
        database = f"{'-':>10}"
        if figures.database_ms:
            database = f"{statistics.median(figures.database_ms):10.2f}"
        print(
            f"{name:<16} {cpu:8.2f} {spread:>15} {statistics.median(figures.user_ms):8.2f} "
            f"{statistics.median(figures.wall_ms):8.2f} "
            f"{statistics.median(figures.round_trips):12.1f} {database}  {verdict}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "-n", type=int, help="operations of each kind per round (200; 50 counting instructions)"
    )
    parser.add_argument("--rounds", type=int, help="rounds (5; 2 counting instructions)")
    parser.add_argument(
        "--no-statements", action="store_true", help="do not list the statements of each operation"
    )
    parser.add_argument(
        "--profile",
        choices=OPERATIONS,
        help="profile one round of this operation with cProfile instead of measuring all",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=OPERATIONS,
        help="measure only this operation (may be given again; a sampling profiler then sees "
        "only it)",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions under valgrind's callgrind instead of timing (bench/"
        "instructions.py): the same code gives the same count however busy the machine is",
    )
    args, _ = parser.parse_known_args(argv)
    if args.instructions and not under_callgrind():
        return rerun_under_callgrind("bench.hot_path", sys.argv[1:] if argv is None else argv)
    counting = under_callgrind()
    args.n = args.n or (50 if counting else 200)
    args.rounds = args.rounds or (2 if counting else 5)
    database = migrated_postgres("referral")
    try:
        # uvloop, as the services run in production (uvicorn --loop uvloop).
        results = uvloop.run(run(database, args.n, args.rounds, args.profile, args.only))
    finally:
        drop(database)
    report(results, args.n, args.rounds, not args.no_statements)
    return 0


if __name__ == "__main__":
    sys.exit(main())
