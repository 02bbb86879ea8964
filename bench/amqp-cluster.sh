#!/usr/bin/env bash
# Fleet simulator over AMQP against two silo processes on one PostgreSQL database and one RabbitMQ
# vhost (both made fresh here, removed afterwards). Usage:
#   bench/amqp-cluster.sh AGENTS INTERVALS DURATION     e.g. bench/amqp-cluster.sh 10000 5 60
# Needs what scripts/test.sh sets up (PostgreSQL with postgres/postgres, RabbitMQ with msadmin/msadmin
# and the management plugin) and a Release build.
set -euo pipefail
cd "$(dirname "$0")/.."
agents=${1:-10000}; intervals=${2:-5}; duration=${3:-60}
run=bench$RANDOM; db=ms_$run; dir=/tmp/ms-$run
pg="Host=127.0.0.1;Port=5432;Username=postgres;Password=postgres;Database=$db"
mgmt=http://127.0.0.1:15672/api; auth=msadmin:msadmin
curl -fsS -u $auth -X PUT "$mgmt/vhosts/$run" >/dev/null
curl -fsS -u $auth -X PUT -H 'content-type: application/json' -d '{"configure":".*","write":".*","read":".*"}' "$mgmt/permissions/$run/msadmin" >/dev/null
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  curl -fsS -u $auth -X DELETE "$mgmt/vhosts/$run" >/dev/null || true
  PGPASSWORD=postgres psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
for i in 1 2; do
  MANAGEDSERVERS_ADMIN_PASSWORD=pw dotnet Silo/bin/Release/net10.0/ManagedServers.Silo.dll \
    --urls "http://127.0.0.1:2808$i" --AgentUrls "https://127.0.0.1:2844$i" --DataDir "$dir/silo$i" \
    --ConnectionStrings:Postgres "$pg" --Orleans:ClusterId "$run" --Orleans:SiloPort "2111$i" --Orleans:GatewayPort "2300$i" \
    --RabbitMq:Host 127.0.0.1 --RabbitMq:VirtualHost "$run" --RabbitMq:User msadmin --RabbitMq:Password msadmin --RabbitMq:Partitions 8 \
    >"$dir-silo$i.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 120); do curl -fsS "http://127.0.0.1:2808$i/healthz" >/dev/null 2>&1 && break; sleep 1; done
done
dotnet bench/FleetSimulator/bin/Release/net10.0/ManagedServers.FleetSimulator.dll --url http://127.0.0.1:28081 --password pw \
  --agents "$agents" --interval "$intervals" --duration "$duration" --prefix "$run" \
  --amqp "amqp://msadmin:msadmin@127.0.0.1:5672/$run" --partitions 8 --silo-pids "${pids[0]},${pids[1]}"
echo "silo logs: $dir-silo1.log $dir-silo2.log"
