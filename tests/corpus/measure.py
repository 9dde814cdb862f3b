"""How today's code answers the sender corpus: per input, and how many are refused.

    .venv/bin/python -m tests.corpus.measure [--json]

Runs every input once through the real apps on a fresh SQLite database (each input on empty
tables, as the test does) and prints, per input, the expected outcome and status, the status
answered, and what falls short of the expectation. The last lines count the inputs refused
today (a 4xx) against the inputs expected refused, and the inputs expected kept that were lost.
"""

import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from referral_api.config import ReferralSettings
from referral_api.main import create_app as create_referral_app
from screening_api.main import create_app as create_screening_app
from tests.corpus.conftest import Stack, emptied
from tests.corpus.corpus import (
    load_cases,
    missing_warnings,
    readable,
    refusal_problems,
    send,
    status_matches,
    stored_count,
)
from tests.screening.conftest import screening_settings
from tests.support.clients import running
from tests.support.databases import migrated_database


async def _measure() -> list[dict[str, Any]]:
    folder = Path(tempfile.mkdtemp(prefix="signpost-corpus-"))
    referral_url = await migrated_database("sqlite", folder, "referral")
    screening_url = await migrated_database("sqlite", folder, "screening")
    referral_app = create_referral_app(
        ReferralSettings(database_url=referral_url, environment="test", log_level="WARNING")
    )
    rows = []
    async with running(referral_app, "http://referral.test") as referral:
        screening_app = create_screening_app(
            screening_settings(screening_url, log_level="WARNING"),
            referral_transport=httpx.ASGITransport(app=referral_app),
        )
        async with running(screening_app, "http://screening.test") as screening:
            stack = Stack(referral_app, referral, screening_app, screening)
            for case in load_cases():
                await emptied(stack)
                response = await send(stack, case)
                problems = []
                if not status_matches(case.expect["status"], response.status_code):
                    problems.append(_first_issue(response))
                elif case.kept:
                    if why := await readable(stack, case, response):
                        problems.append(why)
                    if missing := missing_warnings(case, response):
                        problems.append(
                            "no warning "
                            + ", ".join(f"{w['code']}@{w['expression']}" for w in missing)
                        )
                else:
                    problems += refusal_problems(case, response)
                    if await stored_count(stack, case.service):
                        problems.append("stored although refused")
                rows.append(
                    {
                        "input": case.name,
                        "expected": case.expect["outcome"],
                        "expected_status": case.expect["status"],
                        "status": response.status_code,
                        "refused_today": 400 <= response.status_code < 500,
                        "problems": problems,
                    }
                )
    return rows


def _first_issue(response: httpx.Response) -> str:
    try:
        issues = response.json().get("issue") or []
    except ValueError:
        return response.text[:160]
    if not issues:
        return f"status {response.status_code}"
    issue = issues[0]
    where = ",".join(issue.get("expression") or [])
    return f"{response.status_code} {where}: {str(issue.get('diagnostics'))[:160]}"


def main() -> None:
    rows = asyncio.run(_measure())
    if "--json" in sys.argv:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        verdict = "ok  " if not row["problems"] else "FAIL"
        print(
            f"{verdict} {row['input']:46} expect {row['expected']:7} {row['expected_status']!s:4}"
            f" got {row['status']}  {'; '.join(row['problems'])}"
        )
    expected_refused = sum(row["expected"] == "refused" for row in rows)
    refused = sum(row["refused_today"] for row in rows)
    kept = [row for row in rows if row["expected"] == "kept"]
    lost = [row for row in kept if row["refused_today"] or row["status"] >= 500]
    print(
        f"\n{len(rows)} inputs: {refused} refused today (4xx), {expected_refused} expected "
        f"refused; {len(lost)} of {len(kept)} expected kept are refused today; "
        f"{sum(not row['problems'] for row in rows)} meet every expectation"
    )


if __name__ == "__main__":
    main()
