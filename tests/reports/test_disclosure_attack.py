"""The differencing attack, replayed on the reference history: no published answer, alone or
combined with others, pins a suppressed or adjusted count to its true value.

The attack (`tests.support.disclosure_attack`) asks referral-api for 285 answers over the
history of the reference recomputation (`loaded_history`: about 800 referrals over a year, six
roles, nine age bands, seven genders, many small cells) with a plain `reports:read` token, and
reasons with intervals across all of them; the true values come from the same answers asked
with `reports:unsuppressed`. It also checks the promise the method rests on: the same cell (the
same records) is published as the same value in every answer that shows it.

The history's referral ids, so its record keys, are drawn afresh each time it is loaded: each
run is one draw. `python -m bench.disclosure` runs the attack on many (docs/reports.md gives the
figures).

`test_the_rule_without_adjustment_gives_cells_away` runs the same attack against the rule as
it was before the cell key method (suppress 1-7, round to 5, the audit per answer: a
perturbation table of zeros is exactly that rule): it pins cells, so the attack is not vacuous.
It runs once, on SQLite.
"""

from pathlib import Path
from typing import Any

import pytest

from signpost_schemas.disclosure import PerturbationTable, load_table
from tests.support.disclosure_attack import Attack, fetch, fetch_answers
from tests.support.history_loading import LoadedHistory
from tests.support.report_history import PERIOD


@pytest.fixture(scope="module")
async def true_answers(loaded_history: LoadedHistory) -> list[dict[str, Any]]:
    """The true figures of every answer: the same under any disclosure rule."""
    return await fetch(loaded_history.client, PERIOD, unsuppressed=True)


async def _attack(history: LoadedHistory, true: list[dict[str, Any]], table_path: str) -> Attack:
    """The attack on the history's answers published under the table at `table_path` (the
    shipped one for "")."""
    settings = history.app.state.settings
    history.app.state.settings = settings.model_copy(update={"disclosure_ptable": table_path})
    try:
        answers = await fetch_answers(history.client, PERIOD, true)
    finally:
        history.app.state.settings = settings
    return Attack.of(load_table(table_path), answers)


async def test_no_cell_is_pinned_by_combining_answers(
    loaded_history: LoadedHistory, true_answers: list[dict[str, Any]]
):
    attack = await _attack(loaded_history, true_answers, "")
    print(attack.summary("cell key method"))
    assert attack.inconsistent() == {}
    assert len(attack.hidden) > 20_000
    assert attack.pinned() == []


@pytest.mark.sqlite_only
async def test_the_rule_without_adjustment_gives_cells_away(
    loaded_history: LoadedHistory, true_answers: list[dict[str, Any]], tmp_path: Path
):
    zeros = PerturbationTable(8, ((0,) * 256,))
    path = tmp_path / "zeros.csv"
    path.write_text(zeros.to_csv())
    attack = await _attack(loaded_history, true_answers, str(path))
    print(attack.summary("suppress 1-7 and round to 5 only"))
    assert attack.inconsistent() == {}
    assert attack.pinned()
