#!/usr/bin/env bash
# Run the test suite as two pytest processes side by side, one per database backend:
#   - SQLite: every test that uses a database, on SQLite;
#   - PostgreSQL: every test that uses a database, on PostgreSQL (its output goes to a log file,
#     printed when it ends);
#   and the tests that use no database shared between the two as they run: each runs in the part
#   that claims it first, in a folder made for the run (SIGNPOST_TEST_CLAIMS;
#   tests/support/parts.py says how); parts that fake different clocks each run all of them.
# Usage: tests/run_parts.sh PYTHON [pytest arguments...]. The exit status is non-zero when
# either part fails. SIGNPOST_TEST_BACKENDS set by the caller runs one plain pytest instead.
# SQLITE_FAKE_NOW and POSTGRES_FAKE_NOW, when set, fake each part's wall clock from that moment
# (SIGNPOST_FAKE_NOW, see tests/conftest.py).
set -u
python=$1
shift

if [ -n "${SIGNPOST_TEST_BACKENDS:-}" ]; then
  exec "$python" -m pytest "$@"
fi

log=$(mktemp "${TMPDIR:-/tmp}/signpost-test-postgresql-XXXXXX")
claims=""
# Parts that fake different clocks (make test-clock) each run every test that uses no database.
if [ "${SQLITE_FAKE_NOW:-}" = "${POSTGRES_FAKE_NOW:-}" ]; then
  claims=$(mktemp -d "${TMPDIR:-/tmp}/signpost-test-claims-XXXXXX")
fi
cleanup() { if [ -n "$claims" ]; then rm -rf "$claims"; fi; }
trap cleanup EXIT
env ${POSTGRES_FAKE_NOW:+SIGNPOST_FAKE_NOW=$POSTGRES_FAKE_NOW} SIGNPOST_TEST_CLAIMS="$claims" \
  SIGNPOST_TEST_BACKENDS=postgresql SIGNPOST_TEST_PART=postgresql "$python" -m pytest -p no:cacheprovider "$@" >"$log" 2>&1 &
postgres_pid=$!
trap 'kill "$postgres_pid" 2>/dev/null' INT TERM

echo "== SQLite, and the tests that use no database it claims (the PostgreSQL part runs beside it: $log)"
env ${SQLITE_FAKE_NOW:+SIGNPOST_FAKE_NOW=$SQLITE_FAKE_NOW} SIGNPOST_TEST_CLAIMS="$claims" \
  SIGNPOST_TEST_BACKENDS=sqlite SIGNPOST_TEST_PART=sqlite "$python" -m pytest "$@"
sqlite_status=$?

echo "== PostgreSQL (waiting for it to finish)"
wait "$postgres_pid"
postgres_status=$?
# 5: no tests collected (arguments that select only tests without a database).
if [ "$postgres_status" -eq 5 ]; then postgres_status=0; fi
if [ "$postgres_status" -eq 0 ]; then
  tail -n 3 "$log"
else
  cat "$log"
fi
rm -f "$log"

echo "== SQLite part: exit $sqlite_status; PostgreSQL part: exit $postgres_status"
[ "$sqlite_status" -eq 0 ] && [ "$postgres_status" -eq 0 ]
