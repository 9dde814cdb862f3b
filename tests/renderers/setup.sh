#!/usr/bin/env bash
# Installs what the renderer tests need, then builds the Smart Forms test page:
#   - Debian's chromium (headless browser),
#   - the npm packages pinned in package-lock.json (lforms, @aehrc/smart-forms-renderer, react,
#     esbuild, playwright-core, and axe-core for the page tests in tests/pages) into
#     tests/renderers/node_modules,
#   - build/smartforms.js, the Smart Forms page bundled with esbuild.
# Idempotent: each step is skipped when its result is already there and up to date, so after one
# run the tests need no network.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v chromium >/dev/null 2>&1 && [ -z "${CHROMIUM_PATH:-}" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --legacy-peer-deps --loglevel=error
fi

if [ ! -f build/smartforms.js ] || [ pages/smartforms.jsx -nt build/smartforms.js ] \
  || [ package-lock.json -nt build/smartforms.js ]; then
  node_modules/.bin/esbuild pages/smartforms.jsx --bundle --minify --outdir=build \
    --entry-names=smartforms --loader:.js=jsx --loader:.woff2=file --loader:.woff=file \
    --loader:.ttf=file --define:process.env.NODE_ENV='"production"' --log-level=warning
fi
echo "renderer tests ready: chromium $(command -v chromium || echo "${CHROMIUM_PATH}"), lforms \
$(node -p 'require("./node_modules/lforms/package.json").version'), smart-forms-renderer \
$(node -p 'require("./node_modules/@aehrc/smart-forms-renderer/package.json").version')"
