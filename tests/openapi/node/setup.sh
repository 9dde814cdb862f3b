#!/usr/bin/env bash
# Installs the npm packages the OpenAPI tool tests use, exactly as package-lock.json pins them,
# into tests/openapi/node/node_modules: @redocly/cli (lint with the recommended rules),
# openapi-typescript (types from the documents) and typescript (tsc). openapi-python-client is a
# Python package: `make venv` installs it (pyproject.toml dev extras, constraints.txt).
# Idempotent: npm ci runs only when the lock file is newer than what is installed.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "OpenAPI tool tests ready: @redocly/cli \
$(node -p 'require("./node_modules/@redocly/cli/package.json").version'), openapi-typescript \
$(node -p 'require("./node_modules/openapi-typescript/package.json").version'), typescript \
$(node -p 'require("./node_modules/typescript/package.json").version')"
