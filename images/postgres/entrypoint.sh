#!/bin/bash
# First start (empty $PGDATA): initdb with POSTGRES_USER as the superuser and POSTGRES_PASSWORD
# as its password (SCRAM over TCP; the local socket trusts, it is reachable only inside the
# container), creates POSTGRES_DB. Every start: runs postgres in the foreground as the postgres
# user, listening on all addresses of the container network.
set -euo pipefail
user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
mkdir -p "$PGDATA" /var/run/postgresql
chown postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups env HOME=/var/lib/postgresql "$@"; }

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "error: the database is not initialised and POSTGRES_PASSWORD is not set" >&2
    exit 1
  fi
  echo "entrypoint: initialising $PGDATA (superuser '$user', database '$db')"
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  chown postgres "$pwfile"
  as_postgres initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  if [ "$db" != "postgres" ]; then
    # Single-user mode: no listener is opened while the database is being made.
    printf 'CREATE DATABASE "%s" OWNER "%s";\n' "${db//\"/\"\"}" "${user//\"/\"\"}" \
      | as_postgres postgres --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "entrypoint: initialised"
fi

if [ "$#" -gt 0 ]; then exec "$@"; fi
exec setpriv --reuid=postgres --regid=postgres --init-groups env HOME=/var/lib/postgresql \
  postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql
