#!/bin/sh
# The container's entry point: `entrypoint.sh <referral|directory|screening> <serve|migrate|ping>`,
# or `entrypoint.sh referral expire-held`.
#
#   serve        run the service under uvicorn (WEB_CONCURRENCY worker processes, default 2)
#   migrate      migrate the service's database to head (`alembic --name <service> upgrade head`)
#   ping         exit 0 when the local /_ping answers 200 (container health checks)
#   expire-held  referral only: expire the messages held past REFERRAL_HELD_MESSAGE_RETENTION_DAYS
#                (`python -m referral_api.messages.expire`; the CronJob referral-expire-held)
#
# The database URL and every other setting come from the service's own environment variables
# (REFERRAL_*, DIRECTORY_*, SCREENING_*). SIGNPOST_PORT and SIGNPOST_HOST override the listening
# address; the image leaves them unset. The script runs from the folder holding alembic.ini and
# migrations/ (the image's /app, or the repository root), found relative to this file.
set -eu

usage() {
    echo "usage: $0 <referral|directory|screening> <serve|migrate|ping> | $0 referral expire-held" >&2
    exit 2
}

[ "$#" -eq 2 ] || usage
service="$1"
action="$2"

case "$service" in
    referral) package=referral_api; default_port=8001 ;;
    directory) package=directory_api; default_port=8002 ;;
    screening) package=screening_api; default_port=8003 ;;
    *) usage ;;
esac

port="${SIGNPOST_PORT:-$default_port}"
host="${SIGNPOST_HOST:-0.0.0.0}"

cd "$(dirname "$0")/.."

case "$action" in
    serve)
        # With several workers, Prometheus metrics are aggregated through files in this folder;
        # figures left by an earlier process would be counted again, so start from empty.
        if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
            mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
            find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -name '*.db' -type f -delete
        fi
        exec uvicorn --factory "$package.main:create_app" \
            --host "$host" --port "$port" \
            --workers "${WEB_CONCURRENCY:-2}" \
            --loop uvloop --http httptools \
            --no-access-log --proxy-headers
        ;;
    migrate)
        exec alembic --name "$service" upgrade head
        ;;
    expire-held)
        [ "$service" = referral ] || usage
        exec python -m referral_api.messages.expire
        ;;
    ping)
        exec python -c 'import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=3) as response:
    sys.exit(0 if response.status == 200 else 1)' "http://127.0.0.1:$port/_ping"
        ;;
    *)
        usage
        ;;
esac
