#!/usr/bin/env bash
# Starts the machine's PostgreSQL 15 cluster and makes sure the role the
# tests use exists. Idempotent; run as root (it switches to postgres).
# Prints the URL to export as TWOFOLD_TEST_DATABASE_URL.
set -euo pipefail

# Only the URL goes to stdout: callers capture it with $(...). Everything the
# tools print (pg_ctlcluster says "Removed stale pid file." after an unclean
# stop, for one) goes to stderr.

role=${TWOFOLD_PG_ROLE:-twofold}
password=${TWOFOLD_PG_PASSWORD:-twofold}
port=${TWOFOLD_PG_PORT:-5432}

if ! command -v pg_ctlcluster >/dev/null; then
  echo "postgres-up: installing PostgreSQL" >&2
  apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
fi
version=$(pg_lsclusters -h | awk 'NR==1 {print $1}')
cluster=$(pg_lsclusters -h | awk 'NR==1 {print $2}')
if [ -z "$version" ]; then
  echo "postgres-up: no PostgreSQL cluster found" >&2
  exit 1
fi
if ! pg_lsclusters -h | awk 'NR==1 {print $4}' | grep -q online; then
  pg_ctlcluster "$version" "$cluster" start >&2
fi
for _ in $(seq 1 30); do
  runuser -u postgres -- pg_isready -q -p "$port" && break
  sleep 1
done
runuser -u postgres -- psql -q -p "$port" -v ON_ERROR_STOP=1 >&2 <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN
    CREATE ROLE $role LOGIN PASSWORD '$password' CREATEDB;
  END IF;
END
\$\$;
SQL
echo "postgres://$role:$password@127.0.0.1:$port/postgres"
