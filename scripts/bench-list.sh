#!/usr/bin/env bash
# Prints p50/p99 of filtered admin user-list calls at 100,000 and 1,000,000
# users in one account, on SQLite and on PostgreSQL (optimised build).
# Usage: scripts/bench-list.sh [SIZES] (default 100000,1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/bench-db.sh
sizes=${1:-100000,1000000}
pg_url=$(bench_pg_url)
cargo bench --bench list_users --no-run --quiet
echo "== SQLite"
cargo bench --bench list_users --quiet -- --users "$sizes" --requests "${REQUESTS:-100}"
echo "== PostgreSQL"
cargo bench --bench list_users --quiet -- --users "$sizes" --requests "${REQUESTS:-100}" --database "$pg_url"
