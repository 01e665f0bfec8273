#!/usr/bin/env bash
# Installs the independent checkers CI runs against the committed contract:
#   openapi-spec-validator (PyPI), @redocly/cli and @stoplight/spectral-cli
#   (npm), pinned; and gdb,
#   which scripts/exit-check.sh uses to watch the process exit.
# Idempotent; installs into .tools/ (git-ignored) so nothing global changes
# except pip's site-packages.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check \
  "openapi-spec-validator==0.9.0"

if ! command -v gdb >/dev/null; then
  apt-get update -qq && apt-get install -y -qq gdb >/dev/null
fi
if ! command -v npm >/dev/null; then
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -x .tools/node_modules/.bin/redocly ] || [ ! -x .tools/node_modules/.bin/spectral ]; then
  mkdir -p .tools
  npm install --prefix .tools --no-audit --no-fund --silent \
    "@redocly/cli@2.77.0" "@stoplight/spectral-cli@6.16.3" >/dev/null
fi
