#!/usr/bin/env bash
# Start a local PostgreSQL for the store tests and print the line that points the tests at it:
#   eval "$(bash .ci/postgres.sh)"     # sets GEP_TEST_POSTGRES_URL=postgresql+psycopg://...
# Installs Debian's postgresql with apt-get when it is missing, creates (or starts) a cluster,
# then creates the role and database if they do not exist. Idempotent: safe to run twice.
# Progress goes to stderr; stdout carries only the export line.
set -euo pipefail

DB_NAME="${GEP_PG_DB:-gep_test}"
DB_USER="${GEP_PG_USER:-gep}"
DB_PASSWORD="${GEP_PG_PASSWORD:-gep}"

log() { echo "postgres.sh: $*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        sudo -u postgres "$@"
    fi
}

if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    log "installing postgresql with apt-get"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi

VERSION="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
if [ -z "$VERSION" ]; then
    log "no PostgreSQL server found under /usr/lib/postgresql after installing"
    exit 1
fi
CLUSTER="main"
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$VERSION $CLUSTER"; then
    log "creating cluster $VERSION/$CLUSTER"
    as_root pg_createcluster "$VERSION" "$CLUSTER" >&2
fi
PORT="$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c {print $3}')"
STATUS="$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c {print $4}')"
if [ "$STATUS" != "online" ]; then
    log "starting cluster $VERSION/$CLUSTER on port $PORT"
    as_root pg_ctlcluster "$VERSION" "$CLUSTER" start >&2
fi

for _ in $(seq 1 30); do
    if as_postgres psql -p "$PORT" -qAtc "select 1" >/dev/null 2>&1; then break; fi
    sleep 1
done

as_postgres psql -p "$PORT" -v ON_ERROR_STOP=1 -qAt >&2 <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
    CREATE ROLE "$DB_USER" LOGIN PASSWORD '$DB_PASSWORD';
  ELSE
    ALTER ROLE "$DB_USER" LOGIN PASSWORD '$DB_PASSWORD';
  END IF;
END
\$\$;
SQL
if ! as_postgres psql -p "$PORT" -qAtc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1; then
    as_postgres createdb -p "$PORT" -O "$DB_USER" "$DB_NAME" >&2
fi
log "PostgreSQL $VERSION ready on 127.0.0.1:$PORT, database $DB_NAME, user $DB_USER"
echo "export GEP_TEST_POSTGRES_URL=postgresql+psycopg://$DB_USER:$DB_PASSWORD@127.0.0.1:$PORT/$DB_NAME"
