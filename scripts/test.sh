#!/usr/bin/env bash
# Runs every test of the solution on a fresh Debian 12 machine: installs what is missing,
# starts the services that are not running, builds, tests, and prints "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$(pwd)
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# 1. Debian packages (skipped when present).
# knot-module-dnstap: mod-dnstap (DNS monitoring, host knotd); knot-dnssecutils: kzonecheck (dns.apply validates zones); dnsperf: `bench -- dns`.
# chromium: the web UI's browser tests (Playwright drives it; nothing downloads a browser).
packages=(curl postgresql rabbitmq-server docker.io knot knot-dnsutils knot-dnssecutils knot-module-dnstap dnsperf kea-dhcp4-server kea-dhcp6-server kea-admin chromium)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  $SUDO apt-get update -qq
  # Packaged services must not start themselves through policy-rc.d-less containers; we start them below.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v dotnet >/dev/null || { echo "error: the .NET 10 SDK is required (dotnet not on PATH)" >&2; exit 1; }

# 2. Services.
pg_version=$(ls /etc/postgresql | sort -V | tail -n 1)
if ! $SUDO pg_ctlcluster "$pg_version" main status >/dev/null 2>&1; then
  log "starting PostgreSQL $pg_version"
  $SUDO pg_ctlcluster "$pg_version" main start
fi
for _ in $(seq 1 30); do as_postgres psql -qAtc 'select 1' >/dev/null 2>&1 && break; sleep 1; done
as_postgres psql -qc "ALTER USER postgres PASSWORD 'postgres'" >/dev/null
export MANAGEDSERVERS_TEST_POSTGRES="Host=127.0.0.1;Port=5432;Username=postgres;Password=postgres"

if ! $SUDO rabbitmqctl -q status >/dev/null 2>&1; then
  log "starting RabbitMQ"
  $SUDO rabbitmq-server -detached >/dev/null 2>&1 || true
fi
# await_startup fails at once while the Erlang node is not up yet: retry it for a while.
for i in $(seq 1 60); do
  $SUDO rabbitmqctl -q await_startup --timeout 120 >/dev/null 2>&1 && break
  [ "$i" -lt 60 ] || { echo "error: RabbitMQ did not start" >&2; exit 1; }
  sleep 2
done
# The management API (per-agent users and permissions) ships with the server; enabling it is offline.
if ! $SUDO rabbitmq-plugins -q is_enabled rabbitmq_management >/dev/null 2>&1; then
  log "enabling the RabbitMQ management plugin"
  $SUDO rabbitmq-plugins -q enable rabbitmq_management >/dev/null
fi
for _ in $(seq 1 60); do curl -fsS -u guest:guest http://127.0.0.1:15672/api/overview >/dev/null 2>&1 && break; sleep 1; done
# A test administrator; tests make their own vhost each, so they run side by side.
# (CLI calls can fail transiently while the node is busy: retry them; add_user is allowed to find the user.)
retry() { for i in 1 2 3 4 5; do "$@" && return 0; sleep 2; done; "$@"; }
$SUDO rabbitmqctl -q add_user msadmin msadmin >/dev/null 2>&1 || true
retry $SUDO rabbitmqctl -q set_user_tags msadmin administrator >/dev/null
retry $SUDO rabbitmqctl -q change_password msadmin msadmin >/dev/null
export MANAGEDSERVERS_TEST_RABBITMQ="amqp://msadmin:msadmin@127.0.0.1:5672/"
export MANAGEDSERVERS_TEST_RABBITMQ_MANAGEMENT="http://127.0.0.1:15672/"

# dockerd: started when not running; where the default setup cannot run (no overlayfs or iptables inside a
# container, say) it is started again with the vfs storage driver and no networking of its own: our containers
# use the host network.
docker_up() { for _ in $(seq 1 "$1"); do $SUDO docker info >/dev/null 2>&1 && return 0; sleep 1; done; return 1; }
if ! $SUDO docker info >/dev/null 2>&1; then
  log "starting dockerd"
  ($SUDO dockerd >/tmp/managedservers-dockerd.log 2>&1 &) || true
  if ! docker_up 60; then
    log "dockerd did not come up; trying again with --storage-driver=vfs --iptables=false --bridge=none"
    $SUDO pkill -x dockerd 2>/dev/null || true; sleep 2
    ($SUDO dockerd --storage-driver=vfs --iptables=false --bridge=none >/tmp/managedservers-dockerd.log 2>&1 &) || true
    docker_up 60 || { echo "error: dockerd did not answer within 60 s (see /tmp/managedservers-dockerd.log)" >&2; exit 1; }
  fi
fi
# The Knot and Kea images the agent's container runtime tests use (managedservers/knot:*,
# managedservers/kea:*). Instant when they are up to date; on a fresh machine this first makes
# the Debian base with debootstrap (a few minutes). See docs/images.md.
$SUDO images/build.sh knot kea

# Browser-test helpers from npm (axe-core), pinned by their package-lock.json.
if ! command -v npm >/dev/null; then
  log "installing npm"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
ui_tests="tests/Silo.Tests/Ui"
if ! cmp -s "$ui_tests/package-lock.json" "$ui_tests/node_modules/.installed-lock.json" 2>/dev/null; then
  log "npm ci ($ui_tests)"
  (cd "$ui_tests" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && cp package-lock.json node_modules/.installed-lock.json)
fi

# 3. Build and test.
results="$root_dir/TestResults"
rm -rf "$results"
log "building"
dotnet build ManagedServers.sln -c Release -nologo -v quiet
log "testing"
set +e
dotnet test ManagedServers.sln -c Release --no-build -nologo \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" "$@"
test_exit=$?
set -e

# 4. Count from the TRX files: the one line CI reads.
passed=0; failed=0; skipped=0
shopt -s nullglob
for trx in "$results"/*.trx; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  skipped=$((skipped + $(get notExecuted)))
done
# Name the failures just above the summary, so the tail of a CI log says what broke.
for trx in "$results"/*.trx; do
  grep -o '<UnitTestResult [^>]*outcome="\(Failed\|Error\|Timeout\|Aborted\)"[^>]*>' "$trx" \
    | grep -o 'testName="[^"]*"' | sed 's/^testName="\(.*\)"$/FAILED: \1/' || true
done
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$failed" -gt 0 ] || [ "$test_exit" -ne 0 ] || [ "$passed" -eq 0 ]; then exit 1; fi
