#!/usr/bin/env bash
# Builds and starts ManagedServers on its embedded defaults (one silo + API on 127.0.0.1:8080,
# SQLite under .data/), creates a demo DNS server, enrols a local agent from its setup bundle
# and prints the URL and the admin credentials. Ctrl+C stops everything (or pass --detach).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
data="$root/.data"
url="http://127.0.0.1:8080"
agent_url="https://127.0.0.1:8443"
detach=false; [ "${1:-}" = "--detach" ] && detach=true
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
command -v dotnet >/dev/null || { echo "error: the .NET 10 SDK is required (dotnet not on PATH)" >&2; exit 1; }
command -v curl >/dev/null || { echo "error: curl is required (apt-get install curl)" >&2; exit 1; }

mkdir -p "$data"; chmod 700 "$data"
if [ -z "${MANAGEDSERVERS_ADMIN_PASSWORD:-}" ]; then
  [ -s "$data/admin-password" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr '+/' '-_' > "$data/admin-password")
  MANAGEDSERVERS_ADMIN_PASSWORD=$(cat "$data/admin-password")
fi
export MANAGEDSERVERS_ADMIN_PASSWORD

log "building"
dotnet build ManagedServers.sln -c Release -nologo -v quiet >/dev/null
bin() { echo "$root/$1/bin/Release/net10.0/$2"; }

if curl -fs "$url/healthz" >/dev/null 2>&1; then
  echo "error: something already listens on $url (stop it first)" >&2; exit 1
fi
# Keeps the logs of the last runs: silo.log.1 is the previous run's, up to silo.log.5.
rotate_log() { local f=$1 i; for i in 4 3 2 1; do [ -e "$f.$i" ] && mv -f "$f.$i" "$f.$((i + 1))"; done; [ -e "$f" ] && mv -f "$f" "$f.1"; return 0; }
rotate_log "$data/silo.log"; rotate_log "$data/agent.log"
log "starting the silo + API ($url, agents on $agent_url, data in $data)"
dotnet "$(bin Silo ManagedServers.Silo.dll)" --urls "$url" --AgentUrls "$agent_url" --DataDir "$data" > "$data/silo.log" 2>&1 &
silo_pid=$!
agent_pid=""
cleanup() { [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null; kill "$silo_pid" 2>/dev/null; wait 2>/dev/null || true; }
$detach || trap cleanup EXIT INT TERM
for _ in $(seq 1 120); do curl -fs "$url/healthz" >/dev/null 2>&1 && break; kill -0 "$silo_pid" 2>/dev/null || { tail -n 30 "$data/silo.log" >&2; exit 1; }; sleep 0.5; done

# The API token: the one saved in .data/run.sh.token while it works and has more than a day left; else a new one (the
# control plane's default lifetime, 30 days unless Tokens:DefaultLifetime says otherwise), and every other "run.sh"
# token (earlier runs') is revoked, so tokens do not pile up.
token_file="$data/run.sh.token"
token=""
if [ -s "$token_file" ]; then
  saved=$(cat "$token_file"); saved_id=${saved#mst_}; saved_id=${saved_id%%_*}
  if tokens_json=$(curl -fs -H "Authorization: Bearer $saved" "$url/api/v1/tokens"); then
    expires=$(printf '%s' "$tokens_json" | grep -o "\"id\":\"$saved_id\"[^}]*" | grep -o '"expires_at":"[^"]*"' | cut -d'"' -f4 || true)
    if [ -z "$expires" ] || [ "$(date -d "$expires" +%s)" -gt $(( $(date +%s) + 86400 )) ]; then token=$saved; fi
  fi
fi
if [ -z "$token" ]; then
  token=$(curl -fs -u "admin:$MANAGEDSERVERS_ADMIN_PASSWORD" -H 'content-type: application/json' -d '{"name":"run.sh"}' "$url/api/v1/tokens" | sed -E 's/.*"token":"([^"]+)".*/\1/')
  (umask 077; printf '%s\n' "$token" > "$token_file")
  token_id=${token#mst_}; token_id=${token_id%%_*}
  for old_id in $(curl -fs -H "Authorization: Bearer $token" "$url/api/v1/tokens" | grep -o '"id":"[0-9a-f]*","name":"run.sh"' | cut -d'"' -f4); do
    [ "$old_id" = "$token_id" ] || curl -fs -X DELETE -H "Authorization: Bearer $token" "$url/api/v1/tokens/$old_id" >/dev/null || true
  done
fi
token_expires=$(curl -fs -H "Authorization: Bearer $token" "$url/api/v1/tokens" | grep -o "\"id\":\"${token_id:-$saved_id}\"[^}]*" | grep -o '"expires_at":"[^"]*"' | cut -d'"' -f4 || true)
auth=(-H "Authorization: Bearer $token")
id=$(curl -fs "${auth[@]}" "$url/api/v1/servers?q=demo-dns" | grep -o '"id":"[^"]*","name":"demo-dns"' | head -n 1 | sed -E 's/"id":"([^"]+)".*/\1/' || true)
if [ -z "$id" ]; then
  log "creating the demo DNS server"
  id=$(curl -fs "${auth[@]}" -H 'content-type: application/json' -d '{"name":"demo-dns","kind":"dns","address":"127.0.0.1","os":"Debian 12","runtime":"exec"}' "$url/api/v1/servers" | sed -E 's/.*"id":"([^"]+)".*/\1/')
fi
if [ ! -s "$data/agent/cert.pem" ]; then
  log "enrolling a local agent from the setup bundle"
  (umask 077; curl -fs "${auth[@]}" "$url/api/v1/servers/$id/setup-bundle" > "$data/demo-dns.bundle.json")
  dotnet "$(bin Agent ManagedServers.Agent.dll)" enroll --bundle "$data/demo-dns.bundle.json" --state-dir "$data/agent"
fi
log "starting the agent"
dotnet "$(bin Agent ManagedServers.Agent.dll)" run --state-dir "$data/agent" > "$data/agent.log" 2>&1 &
agent_pid=$!
state=""
for _ in $(seq 1 60); do
  state=$(curl -fs "${auth[@]}" "$url/api/v1/servers/$id" | sed -E 's/.*"state":"([^"]+)".*/\1/')
  [ "$state" = "running" ] && break; sleep 1
done

# Waits (up to 60 s) for a job to succeed or fail.
wait_job() {
  for _ in $(seq 1 60); do
    # The job's own state is the first "state" in its JSON (its result may carry a service's state).
    job_state=$(curl -fs "${auth[@]}" "$url/api/v1/jobs/$1" | grep -o '"state":"[a-z_]*"' | head -n 1 | cut -d'"' -f4)
    [ "$job_state" = "succeeded" ] && return 0
    [ "$job_state" = "failed" ] && return 1
    sleep 1
  done
  return 1
}

# A DNS service on the demo server (the agent runs the host's knotd: exec runtime), answering on 127.0.0.1:5353.
dns_note="no DNS service (install Debian's knot package, then: msctl services add demo-dns dns --listen 127.0.0.1@5353)"
if [ "$state" = "running" ] && { command -v knotd >/dev/null || [ -x /usr/sbin/knotd ]; }; then
  # DNS monitoring (per-name hit counts) needs mod-dnstap beside the host's knot, zone pushes kzonecheck; dnsperf is handy to load it.
  dns_missing=(); for p in knot-module-dnstap knot-dnssecutils dnsperf; do dpkg -s "$p" >/dev/null 2>&1 || dns_missing+=("$p"); done
  if [ ${#dns_missing[@]} -gt 0 ] && command -v apt-get >/dev/null; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    log "installing ${dns_missing[*]}"
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${dns_missing[@]}" >/dev/null; } \
      || log "could not install ${dns_missing[*]}: DNS hit counts stay off (knot counters still work)"
  fi
  if [ "$(curl -fs "${auth[@]}" "$url/api/v1/servers/$id/services")" = "[]" ]; then
    log "installing a DNS service on demo-dns (knotd on 127.0.0.1:5353)"
    job=$(curl -fs "${auth[@]}" -H 'content-type: application/json' -d '{"kind":"dns","listen":["127.0.0.1@5353"]}' "$url/api/v1/servers/$id/services" | sed -E 's/.*"job_id":"([^"]+)".*/\1/')
    wait_job "$job" || log "the DNS service was not installed: msctl jobs show $job"
  fi
  # A demo zone, imported, assigned and pushed (validated, switched atomically, health-checked by the agent).
  if ! curl -fs "${auth[@]}" "$url/api/v1/zones/demo.test" >/dev/null; then
    log "importing zone demo.test and pushing it to demo-dns"
    zone_json='{"name":"demo.test","zone_file":"$ORIGIN demo.test.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n@ IN NS ns1\nns1 IN A 127.0.0.1\nwww IN A 192.0.2.80\n"}'
    curl -fs "${auth[@]}" -H 'content-type: application/json' -d "$zone_json" "$url/api/v1/zones" >/dev/null \
      && curl -fs "${auth[@]}" -X POST "$url/api/v1/servers/$id/zones/demo.test" >/dev/null \
      && wait_job "$(curl -fs "${auth[@]}" -X POST "$url/api/v1/servers/$id/push-zones" | sed -E 's/.*"job_id":"([^"]+)".*/\1/')" \
      || log "the demo zone was not pushed: msctl jobs list --server demo-dns"
  fi
  dns_note="$(curl -fs "${auth[@]}" "$url/api/v1/servers/$id/services" | grep -q '"state":"running"' && echo "Knot answers on 127.0.0.1:5353 (try: kdig @127.0.0.1 -p 5353 www.demo.test)" || echo "the DNS service is not running yet: msctl services list demo-dns; msctl jobs list --server demo-dns")"
fi

cat <<MSG

  ManagedServers is up.
    API:          $url/api/v1        (docs: $url/api/docs, OpenAPI: $url/api/v1/openapi.json)
    Agents:       $agent_url (mTLS)
    Dashboard:    $url/dashboard/ (Orleans; log in as admin)
    Admin:        user 'admin', password '$MANAGEDSERVERS_ADMIN_PASSWORD'
    API token:    $token (expires ${token_expires:-never}; saved in $token_file, reused by the next run)
    Demo server:  demo-dns ($id) is $state; $dns_note
    CLI:          dotnet $(bin Cli msctl.dll) login --url $url --user admin
                  dotnet $(bin Cli msctl.dll) servers list
                  dotnet $(bin Cli msctl.dll) services list demo-dns
    Logs:         $data/silo.log, $data/agent.log (earlier runs: .1 … .5)

MSG
if $detach; then
  echo "  Detached: silo pid $silo_pid, agent pid $agent_pid (kill them to stop)."
else
  echo "  Ctrl+C stops the silo and the agent."
  wait "$silo_pid"
fi
