#!/usr/bin/env bash
# Installs the npm packages pinned in package-lock.json (fhir-kit-client, @medplum/core and its R4
# definitions) into tests/clients/node/node_modules. Idempotent: skipped when node_modules is
# already up to date with the lock file, so after one run the tests need no network.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "client tests ready: fhir-kit-client $(node -p 'require("./node_modules/fhir-kit-client/package.json").version'), \
@medplum/core $(node -p 'require("./node_modules/@medplum/core/package.json").version')"
