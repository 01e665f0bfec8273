#!/usr/bin/env bash
# Prints p50/p99 of the enrollment QR images (PNG and SVG rendered in
# process, and the flow's qr.png/qr.svg over HTTP) and of
# GET /.well-known/jwks.json against the release `twofold serve`, on SQLite
# (and on PostgreSQL with PG=1). Goal: each under 1 ms p50.
# Usage: scripts/bench-qr-jwks.sh   (SAMPLES, REQUESTS, PG=1 to change)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/bench-db.sh
samples=${SAMPLES:-2000}
requests=${REQUESTS:-1000}
cargo bench --offline --bench qr_jwks --no-run --quiet
echo "== SQLite"
cargo bench --offline --bench qr_jwks --quiet -- --samples "$samples" --requests "$requests"
if [ "${PG:-0}" = 1 ]; then
  pg_url=$(bench_pg_url)
  echo "== PostgreSQL"
  cargo bench --offline --bench qr_jwks --quiet -- --samples "$samples" --requests "$requests" --database "$pg_url"
fi
