#!/usr/bin/env bash
# Prints p50/p99 of the one-time-code step and GET /v1/me on an idle server
# and while many clients log in with passwords (argon2id at its production
# parameters), on SQLite and on PostgreSQL (optimised build).
# Usage: scripts/bench-cheap-under-load.sh [PASSWORD_CLIENTS ...] (default 16 256)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/bench-db.sh
loads=("$@")
[ ${#loads[@]} -gt 0 ] || loads=(16 256)
samples=${SAMPLES:-200}
pg_url=$(bench_pg_url)
cargo bench --bench cheap_under_load --no-run --quiet
for load in "${loads[@]}"; do
  echo "== SQLite, $load password clients"
  cargo bench --bench cheap_under_load --quiet -- --samples "$samples" --load "$load"
  echo "== PostgreSQL, $load password clients"
  cargo bench --bench cheap_under_load --quiet -- --samples "$samples" --load "$load" --database "$pg_url"
done
