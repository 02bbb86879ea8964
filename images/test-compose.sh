#!/usr/bin/env bash
# End-to-end test of docker-compose.yml on the locally built images:
#   builds the images (images/build.sh), starts the stack under its own project name on free
#   loopback ports, waits for every service to be healthy, then checks that
#   - both silos answer the API (/healthz, OpenAPI document);
#   - the two silos formed ONE Orleans cluster (two Active rows in PostgreSQL's membership
#     table, and the dashboard of silo2 lists both silos);
#   - a server created through silo1's API reads back through silo2's API (same token);
#   - the Orleans dashboard answers admins on silo1 and refuses anonymous callers;
#   - RabbitMQ's management API answers with the configured user;
#   - after a restart of silo1 the server still reads through it (state in PostgreSQL);
# and removes everything it made (`down -v`), also on failure.
#
# Usage: images/test-compose.sh [--no-build] [--keep]
#   --no-build  use the images as they are;  --keep  leave the stack running (then remove it with
#   the `down -v` command printed at the end).
# Every wait is bounded. Not part of scripts/test.sh (it builds images; see docs/deployment.md).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
build=true keep=false
for arg in "$@"; do
  case "$arg" in
    --no-build) build=false ;;
    --keep) keep=true ;;
    *) echo "usage: $0 [--no-build] [--keep]" >&2; exit 2 ;;
  esac
done
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
fail() { printf '\033[31mFAIL: %s\033[0m\n' "$*" >&2; exit 1; }
pass() { printf '  ok  %s\n' "$*" >&2; }
# has TEXT CURL-ARGS...: the response body contains TEXT (read whole, then searched: no SIGPIPE).
has() { local text=$1 body; shift; body=$(curl -fsS "$@") && [[ "$body" == *"$text"* ]]; }
for tool in docker curl python3; do command -v "$tool" >/dev/null || fail "$tool is required"; done

if docker compose version >/dev/null 2>&1; then
  compose_bin=(docker compose)
elif command -v docker-compose >/dev/null; then
  compose_bin=(docker-compose)
else
  fail "no compose tool: apt-get install docker-compose (Debian 12 ships 1.29)"
fi

$build && images/build.sh

# Free loopback ports for everything published, so the test runs next to whatever else listens.
read -r p1 p2 p3 p4 p5 p6 < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(6)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
rand() { head -c 18 /dev/urandom | base64 | tr '+/' '-_'; }
export COMPOSE_PROJECT_NAME="mstest$$"
export SILO1_HTTP_PORT=$p1 SILO1_AGENT_PORT=$p2 SILO2_HTTP_PORT=$p3 SILO2_AGENT_PORT=$p4
export RABBITMQ_AMQP_PORT=$p5 RABBITMQ_MANAGEMENT_PORT=$p6
MANAGEDSERVERS_ADMIN_PASSWORD="admin-$(rand)" POSTGRES_PASSWORD="pg-$(rand)" RABBITMQ_PASSWORD="mq-$(rand)"
SECRETS_KEY=$(head -c 32 /dev/urandom | base64)
export MANAGEDSERVERS_ADMIN_PASSWORD POSTGRES_PASSWORD RABBITMQ_PASSWORD SECRETS_KEY
export POSTGRES_USER=managedservers POSTGRES_DB=managedservers RABBITMQ_USER=managedservers
compose() { "${compose_bin[@]}" -f docker-compose.yml "$@"; }
silo1="http://127.0.0.1:$p1" silo2="http://127.0.0.1:$p3" mq="http://127.0.0.1:$p6"

finish() {
  local rc=$?
  if [ $rc -ne 0 ]; then
    echo "---- compose ps / last log lines (project $COMPOSE_PROJECT_NAME) ----" >&2
    compose ps >&2 || true
    compose logs --no-color --tail=40 >&2 || true
  fi
  if $keep && [ $rc -eq 0 ]; then
    echo "left running: COMPOSE_PROJECT_NAME=$COMPOSE_PROJECT_NAME ${compose_bin[*]} down -v" >&2
  else
    compose down -v --remove-orphans >/dev/null 2>&1 || true
  fi
  echo "$([ $rc -eq 0 ] && echo PASSED || echo FAILED) in $(( $(date +%s) - started ))s" >&2
}
trap finish EXIT

log "starting the stack (${compose_bin[*]}, project $COMPOSE_PROJECT_NAME, silos on :$p1 and :$p3)"
compose up -d

# Bounded wait: every service healthy within 240 s (first start initialises PostgreSQL and RabbitMQ).
log "waiting for health"
deadline=$(( $(date +%s) + 240 ))
for svc in postgres rabbitmq silo1 silo2; do
  id=$(compose ps -q "$svc")
  [ -n "$id" ] || fail "$svc has no container"
  while :; do
    status=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id")
    [ "$status" = healthy ] && break
    [ "$(docker inspect -f '{{.State.Status}}' "$id")" = running ] || fail "$svc is not running"
    [ "$(date +%s)" -lt "$deadline" ] || fail "$svc is '$status' after 240 s"
    sleep 2
  done
  pass "$svc healthy ($(( $(date +%s) - started ))s)"
done

log "checks"
for url in "$silo1" "$silo2"; do
  has '"ok"' "$url/healthz" || fail "$url/healthz"
  has '"openapi"' "$url/api/v1/openapi.json" || fail "$url/api/v1/openapi.json"
done
pass "both silos answer the API"

# One cluster: two Active (status 3) silos in the membership table, silo2 sees both. Joining may
# lag health by a few seconds: bounded wait.
active=0
for _ in $(seq 1 30); do
  active=$(compose exec -T postgres psql -qAt -U "$POSTGRES_USER" -d "$POSTGRES_DB" \
    -c "select count(*) from orleansmembershiptable where status = 3" 2>/dev/null | tr -d '\r' || echo 0)
  [ "$active" = 2 ] && break
  sleep 2
done
compose exec -T postgres psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" \
  -c "select address, port, hostname, status from orleansmembershiptable order by hostname" >&2
[ "$active" = 2 ] || fail "expected 2 active silos in orleansmembershiptable, found '$active'"
pass "two active silos in one Orleans cluster (membership table)"

token=$(curl -fsS -u "admin:$MANAGEDSERVERS_ADMIN_PASSWORD" -H 'content-type: application/json' \
  -d '{"name":"test-compose"}' "$silo1/api/v1/tokens" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])') \
  || fail "could not get a token from silo1 with the admin password"
auth=(-H "Authorization: Bearer $token")
hosts=""
for _ in $(seq 1 20); do
  hosts=$(curl -fsS "${auth[@]}" "$silo2/dashboard/DashboardCounters" \
    | python3 -c 'import json,sys; print(" ".join(sorted(h["hostName"] + ":" + h["status"] for h in json.load(sys.stdin)["hosts"])))' || true)
  [ "$hosts" = "silo1:Active silo2:Active" ] && break
  sleep 1
done
[ "$hosts" = "silo1:Active silo2:Active" ] || fail "silo2's dashboard lists '$hosts', expected silo1 and silo2 Active"
pass "silo2's dashboard lists both silos: $hosts"
code=$(curl -s -o /dev/null -w '%{http_code}' "$silo1/dashboard/")
[ "$code" = 401 ] || fail "anonymous /dashboard/ answered $code, expected 401"
has 'Orleans Dashboard' -u "admin:$MANAGEDSERVERS_ADMIN_PASSWORD" "$silo1/dashboard/" || fail "admin /dashboard/ on silo1"
pass "dashboard: 401 anonymous, page for the admin"

name="compose-$$"
id=$(curl -fsS "${auth[@]}" -H 'content-type: application/json' \
  -d "{\"name\":\"$name\",\"kind\":\"dns\",\"address\":\"127.0.0.1\",\"os\":\"Debian 12\"}" "$silo1/api/v1/servers" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') || fail "create a server through silo1"
has "\"name\":\"$name\"" "${auth[@]}" "$silo2/api/v1/servers/$id" || fail "read server $id through silo2"
has "\"id\":\"$id\"" "${auth[@]}" "$silo2/api/v1/servers?q=$name" || fail "list servers through silo2"
pass "server $id created through silo1, read and listed through silo2"

has '"rabbitmq_version"' -u "$RABBITMQ_USER:$RABBITMQ_PASSWORD" "$mq/api/overview" || fail "RabbitMQ management API"
has '"administrator"' -u "$RABBITMQ_USER:$RABBITMQ_PASSWORD" "$mq/api/whoami" || fail "RabbitMQ user is not an administrator"
code=$(curl -s -o /dev/null -w '%{http_code}' -u "$RABBITMQ_USER:wrong" "$mq/api/overview")
[ "$code" = 401 ] || fail "RabbitMQ management API accepted a wrong password ($code)"
pass "RabbitMQ management API answers the configured administrator ($(curl -fsS -u "$RABBITMQ_USER:$RABBITMQ_PASSWORD" "$mq/api/overview" | python3 -c 'import json,sys; print(json.load(sys.stdin)["rabbitmq_version"])'))"

# The silos run the RabbitMQ ingestion stream: they declared the partition queues and consume them.
queues=$(curl -fsS -u "$RABBITMQ_USER:$RABBITMQ_PASSWORD" "$mq/api/queues/%2F" | python3 -c 'import json,sys; print(" ".join(sorted(q["name"]+":"+str(q.get("consumers",0)) for q in json.load(sys.stdin) if q["name"].startswith("ms.ingest."))))')
echo "$queues" | grep -q 'ms.ingest.0:1' || fail "silos do not consume the ingestion partitions: $queues"
pass "ingestion partitions declared and consumed (queue:consumers) $queues"

# An AMQP server's enrolment provisions its own broker user (management API from inside the cluster).
code=$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -H 'content-type: application/json' -X POST "$silo1/api/v1/settings/rabbitmq/test")
[ "$code" = 200 ] || fail "RabbitMQ settings test endpoint answered $code"
has '"ok":true' "${auth[@]}" -H 'content-type: application/json' -X POST "$silo2/api/v1/settings/rabbitmq/test" || fail "RabbitMQ settings test from silo2 failed"
pass "POST /api/v1/settings/rabbitmq/test succeeds from both silos"

# Restart silo1: it rejoins from its volume and PostgreSQL; the server is still there.
log "restarting silo1"
compose restart silo1 >/dev/null
id1=$(compose ps -q silo1)
deadline=$(( $(date +%s) + 120 ))
sleep 3
until [ "$(docker inspect -f '{{.State.Health.Status}}' "$id1")" = healthy ]; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "silo1 not healthy 120 s after a restart"
  sleep 2
done
has "\"name\":\"$name\"" "${auth[@]}" "$silo1/api/v1/servers/$id" || fail "read server $id through silo1 after its restart"
pass "silo1 restarted ($(( $(date +%s) - started ))s): server $id still readable through it, same token"
