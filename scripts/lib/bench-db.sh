# Sourced by the benchmark scripts: the URL they measure PostgreSQL at.
#
# The machine's cluster (started by postgres-up.sh), reached without TLS:
# it shares the machine with the service, as a co-located deployment does,
# where TLS over the loopback protects nothing and costs both sides CPU at
# every round trip. PG_SSLMODE=prefer measures with libpq's default.
bench_pg_url() {
  local url
  url=$(bash scripts/postgres-up.sh) || return 1
  echo "$url?sslmode=${PG_SSLMODE:-disable}"
}
