#!/usr/bin/env bash
# Zone push benchmark: one silo on its embedded defaults (SQLite), S real agents on the exec runtime (the host's
# knotd, Debian package knot), (a) a zone of N records imported and pushed to one server until it answers, (b) a
# one-record change pushed to all S servers, R rounds, p50/p99 until each answers. Usage:
#   bench/dns-push.sh [SERVERS=20] [RECORDS=1000000] [ROUNDS=10]
# Needs a Release build (dotnet build -c Release) and knot installed.
set -euo pipefail
cd "$(dirname "$0")/.."
servers=${1:-20}; records=${2:-1000000}; rounds=${3:-10}
run=dnsbench$RANDOM; dir=/tmp/ms-$run
mkdir -p "$dir"
MANAGEDSERVERS_ADMIN_PASSWORD=pw dotnet Silo/bin/Release/net10.0/ManagedServers.Silo.dll \
  --urls "http://127.0.0.1:28180" --AgentUrls "https://127.0.0.1:28543" --DataDir "$dir/silo" >"$dir/silo.log" 2>&1 &
silo=$!
trap 'kill $silo 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 120); do curl -fsS "http://127.0.0.1:28180/healthz" >/dev/null 2>&1 && break; sleep 1; done
dotnet bench/FleetSimulator/bin/Release/net10.0/ManagedServers.FleetSimulator.dll --url http://127.0.0.1:28180 --password pw \
  --dns-push --servers "$servers" --records "$records" --rounds "$rounds" --prefix "$run" \
  --agent-dll "$PWD/Agent/bin/Release/net10.0/ManagedServers.Agent.dll" | tee "$dir-result.txt"
