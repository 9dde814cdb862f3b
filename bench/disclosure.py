"""Disclosure control against the differencing attack, on many disclosure keys.

The attack of tests/reports/test_disclosure_attack.py (`tests.support.disclosure_attack`: 285
answers, interval reasoning across all of them) depends on the record keys, so on the disclosure
key and the referral ids: one run of the test is one draw. This study runs it on many.

    python -m bench.disclosure --keys 40          # offline, about 15 s a key
    python -m bench.disclosure --api sqlite --keys 10
    python -m bench.disclosure --ptable table.csv # a candidate perturbation table

Offline (the default): the reference history (tests/support/report_history.py) with fresh
random referral ids and a fresh disclosure key per run; every answer is recomputed in plain
Python (tests/support/report_reference.py) and published by the rule (no differencing audit,
which only withholds more). `--api BACKEND`: the real attack through referral-api on a new
database of BACKEND (sqlite or postgresql), on the reference history (imported) and on the
small-cells dataset (tests/support/disclosure_data.py, written), the facts rekeyed for each
key. Prints, per key: cells, those suppressed or not shown exactly, those pinned to their true
value, those narrowed to three possible values or fewer, cells shown as more than one value
(the method promises one), and the mean absolute difference between the published and the true
counts shown. Nothing is asserted.
"""

import argparse
import asyncio
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

import httpx
from tests.support.clients import running
from tests.support.databases import drop_database, migrated_database
from tests.support.disclosure_attack import Attack, fetch, fetch_answers, reference_answers
from tests.support.disclosure_data import small_cells_dataset
from tests.support.history_loading import load_lookups, loaded_history, rekey
from tests.support.report_history import PERIOD, history
from tests.support.report_reference import Reference

from referral_api.config import DEV_PSEUDONYM_KEY, ReferralSettings
from referral_api.main import create_app
from signpost_schemas.disclosure import PerturbationTable, load_table

SMALL_CELLS_PERIOD = (date(2026, 1, 1), date(2026, 3, 31))


def _keys(count: int, first: int) -> list[str]:
    """Disclosure keys, reproducible by number."""
    return [f"bench-disclosure-key-{n:04d}-{'x' * 32}" for n in range(first, first + count)]


def _line(label: str, attack: Attack) -> tuple[str, int]:
    pinned = attack.pinned()
    differences = [
        abs(shown - attack.true[cell])
        for cell, values in attack.shown.items()
        for shown in values
        if shown
    ]
    suppressed = sum(1 for c in attack.bounds if c not in attack.shown and attack.true[c] > 0)
    narrowed = sum(1 for c in attack.hidden if attack.bounds[c][1] - attack.bounds[c][0] <= 2)
    return (
        f"{label}: {attack.answers} answers, {len(attack.bounds)} cells, "
        f"{len(attack.hidden)} suppressed or not exact ({suppressed} suppressed), "
        f"{len(pinned)} pinned, {narrowed} narrowed to 3 values or fewer, "
        f"{len(attack.inconsistent())} shown as several values, "
        f"mean |published - true| {statistics.fmean(differences or [0]):.2f}",
        len(pinned),
    )


def offline(table: PerturbationTable, keys: list[str], seed: int) -> list[int]:
    made = history()
    draw = random.Random(seed)
    pinned = []
    for key in keys:
        for truth in made.referrals:
            truth.id = str(uuid.UUID(int=draw.getrandbits(128), version=4))
        reference = Reference(made.referrals, DEV_PSEUDONYM_KEY, key)
        attack = Attack.of(table, reference_answers(reference, table))
        line, count = _line(f"offline history, key {key[:25]}", attack)
        print(line, flush=True)
        pinned.append(count)
    return pinned


async def _each_key(
    label: str,
    client: httpx.AsyncClient,
    switch: Callable[[str], Awaitable[None]],
    table: PerturbationTable,
    keys: list[str],
    period: tuple[date, date],
) -> list[int]:
    pinned = []
    true = await fetch(client, period, unsuppressed=True)  # the same under every key
    for key in keys:
        await switch(key)
        answers = await fetch_answers(client, period, true)
        line, count = _line(f"{label}, key {key[:25]}", Attack.of(table, answers))
        print(line, flush=True)
        pinned.append(count)
    return pinned


async def through_api(backend: str, ptable: str, keys: list[str]) -> list[int]:
    table = load_table(ptable)
    folder = Path(tempfile.mkdtemp(prefix="signpost-bench-disclosure-"))
    pinned = []
    async with loaded_history(backend, folder) as loaded:
        loaded.app.state.settings = loaded.app.state.settings.model_copy(
            update={"disclosure_ptable": ptable}
        )
        pinned += await _each_key(
            f"{backend} history",
            loaded.client,
            lambda key: rekey(loaded.app, key),
            table,
            keys,
            PERIOD,
        )
    url = await migrated_database(backend, folder, "referral")
    app = create_app(
        ReferralSettings(database_url=url, environment="test", disclosure_ptable=ptable)
    )
    try:
        async with running(app, "http://referral.test") as client:
            await load_lookups(app)
            await small_cells_dataset().write(app)
            pinned += await _each_key(
                f"{backend} small cells",
                client,
                lambda key: rekey(app, key),
                table,
                keys,
                SMALL_CELLS_PERIOD,
            )
    finally:
        await drop_database(url)
    return pinned


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("--keys", type=int, default=20)
    parser.add_argument("--first", type=int, default=0, help="number of the first key")
    parser.add_argument("--random", action="store_true", help="draw secret keys instead")
    parser.add_argument("--ptable", default="", help="a perturbation table (default: shipped)")
    parser.add_argument("--api", choices=["sqlite", "postgresql"])
    args = parser.parse_args(argv)
    keys = (
        [secrets.token_urlsafe(32) for _ in range(args.keys)]
        if args.random
        else _keys(args.keys, args.first)
    )
    started = time.monotonic()
    if args.api:
        pinned = asyncio.run(through_api(args.api, args.ptable, keys))
    else:
        pinned = offline(load_table(args.ptable), keys, seed=args.first)
    print(
        f"{len(pinned)} runs, {sum(1 for p in pinned if p)} with a cell pinned, "
        f"{sum(pinned)} cells pinned in all, {time.monotonic() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
