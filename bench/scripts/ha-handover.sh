#!/usr/bin/env bash
# Times an HA hand-over on two real kea-dhcp4 processes (hot-standby pair on loopback), as a pair push does it:
# ha-maintenance-start on the partner, config-set on the peer, ha-maintenance-cancel (retried until Kea takes it),
# and the time until both are back in hot-standby. Usage: bash bench/scripts/ha-handover.sh [ROUNDS]
set -euo pipefail
rounds=${1:-5}
dir=$(mktemp -d /tmp/ms-ha-bench-XXXX)
export KEA_PIDFILE_DIR=$dir KEA_LOCKFILE_DIR=$dir
hooks=/usr/lib/x86_64-linux-gnu/kea/hooks
gen() { # name valid-lifetime
  cat <<J
{ "Dhcp4": { "interfaces-config": { "interfaces": [ ], "dhcp-socket-type": "udp" },
  "control-socket": { "socket-type": "unix", "socket-name": "$dir/$1.sock" },
  "lease-database": { "type": "memfile", "persist": false }, "valid-lifetime": $2,
  "multi-threading": { "enable-multi-threading": true, "thread-pool-size": 2, "packet-queue-size": 16 },
  "hooks-libraries": [ { "library": "$hooks/libdhcp_lease_cmds.so" },
    { "library": "$hooks/libdhcp_ha.so", "parameters": { "high-availability": [ {
      "this-server-name": "$1", "mode": "hot-standby", "heartbeat-delay": 1000, "max-response-delay": 3000, "max-ack-delay": 1000, "max-unacked-clients": 0,
      "multi-threading": { "enable-multi-threading": true, "http-dedicated-listener": true, "http-listener-threads": 1, "http-client-threads": 1 },
      "peers": [ { "name": "server1", "url": "http://127.0.0.1:18101/", "role": "primary" }, { "name": "server2", "url": "http://127.0.0.1:18102/", "role": "standby" } ] } ] } } ],
  "subnet4": [ { "id": 1, "subnet": "192.0.2.0/24", "pools": [ { "pool": "192.0.2.10 - 192.0.2.100" } ] } ],
  "loggers": [ { "name": "kea-dhcp4", "output_options": [ { "output": "$dir/$1.log" } ], "severity": "WARN" } ] } }
J
}
cmd() { echo "$2" | socat - "UNIX-CONNECT:$dir/$1.sock"; }
state() { cmd "$1" '{"command":"status-get"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["arguments"]["high-availability"][0]["ha-servers"]["local"]["state"])'; }
now() { date +%s.%N; }
ms() { python3 -c "print(round(($2-$1)*1000))"; }
cleanup() { kill $(cat "$dir"/*.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
gen server1 4000 > "$dir/s1.json"; gen server2 4000 > "$dir/s2.json"
kea-dhcp4 -c "$dir/s1.json" -p 10201 > "$dir/o1" 2>&1 &
kea-dhcp4 -c "$dir/s2.json" -p 10202 > "$dir/o2" 2>&1 &
for _ in $(seq 1 60); do [ "$(state server1 2>/dev/null)" = hot-standby ] && [ "$(state server2 2>/dev/null)" = hot-standby ] && break; sleep 0.5; done
echo "round start_ms set_ms cancel_ms(tries) back_in_hot_standby_ms total_ms"
for r in $(seq 1 "$rounds"); do
  t0=$(now); cmd server1 '{"command":"ha-maintenance-start"}' >/dev/null; t1=$(now)
  python3 -c "import json; d=json.load(open('$dir/s2.json')); d['Dhcp4']['valid-lifetime']=4000+$r; print(json.dumps({'command':'config-set','arguments':d}))" > "$dir/set.json"
  cmd server2 "$(cat "$dir/set.json")" >/dev/null; t2=$(now)
  tries=0; until cmd server1 '{"command":"ha-maintenance-cancel"}' | grep -q '"result": 0'; do tries=$((tries+1)); sleep 0.2; [ $tries -lt 500 ] || { echo "cancel never taken"; exit 1; }; done; t3=$(now)
  until [ "$(state server1)" = hot-standby ] && [ "$(state server2)" = hot-standby ]; do sleep 0.05; done; t4=$(now)
  echo "$r $(ms $t0 $t1) $(ms $t1 $t2) $(ms $t2 $t3)($tries) $(ms $t3 $t4) $(ms $t0 $t4)"
  sleep 2
done
