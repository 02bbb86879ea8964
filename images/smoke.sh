#!/usr/bin/env bash
# Smoke check of the engine images: each engine really runs in its image the way the agent runs
# it, as root in the container, with an explicit command and a host directory bind-mounted at
# the same absolute path (config, data, control socket):
#   knot: `knotd --version`, `knotc --version`, the image's default config passes `knotc
#         conf-check`; knotd with a minimal config (one zone, control socket in the mounted
#         directory) on 127.0.0.1:<free port> (host network) answers the zone's SOA and
#         `. SOA` (REFUSED is an answer), asked from the host with kdig (Perl if kdig is
#         missing); `knotc status` over the control socket answers "Running". The config loads
#         mod-stats and mod-dnstap (knotd refuses to start if the dnstap module is missing) and
#         `knotc stats` shows mod-stats counters.
#   kea:  `kea-dhcp4 -V`, `kea-dhcp6 -V`; each server with the lease_cmds and stat_cmds hooks,
#         no interfaces, memfile leases and a unix control socket in the mounted directory
#         answers `status-get` with "result": 0, sent from the host (Perl's IO::Socket::UNIX,
#         in perl-base), and lists lease4/6-get-all and stat-lease4/6-get in `list-commands`.
#
# Usage: images/smoke.sh [knot|kea|knot=IMAGE|kea=IMAGE ...]
#   no names: both. A bare name uses the image `images/build.sh --print-tags NAME` prints.
# images/build.sh runs it after building knot or kea (unless --no-smoke). Every wait is bounded
# (15 s per daemon); containers and the scratch directory are removed, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
fail() { printf '\033[31mSMOKE FAIL: %s\033[0m\n' "$*" >&2; exit 1; }

checks=()
for arg in "$@"; do
  case "$arg" in
    knot|kea) checks+=("$arg=$(images/build.sh --print-tags "$arg")") ;;
    knot=?*|kea=?*) checks+=("$arg") ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: $0 [knot|kea|knot=IMAGE|kea=IMAGE ...]" >&2; exit 2 ;;
  esac
done
if [ ${#checks[@]} -eq 0 ]; then
  checks=("knot=$(images/build.sh --print-tags knot)" "kea=$(images/build.sh --print-tags kea)")
fi

# Short path: unix socket paths are limited to 107 bytes.
dir=$(mktemp -d /tmp/ms-smoke.XXXXXX)
containers=()
cleanup() {
  local c
  for c in "${containers[@]}"; do docker rm -f "$c" >/dev/null 2>&1 || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

free_port() {
  perl -MIO::Socket::INET -e 'my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1",
    LocalPort => 0, Proto => "tcp", ReuseAddr => 1) or die "$!\n"; print $s->sockport, "\n"'
}

# start NAME IMAGE NETWORK COMMAND...: a detached container with $dir mounted at the same path.
start() {
  local name=$1 image=$2 network=$3; shift 3
  containers+=("$name")
  docker run -d --pull never --name "$name" --network "$network" -v "$dir:$dir" "$image" "$@" >/dev/null
}

running_or_fail() {
  [ "$(docker inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ] && return 0
  docker logs "$1" 2>&1 | tail -n 20 >&2
  fail "$1 exited"
}

# dns_status PORT NAME: the RCODE of an SOA query to 127.0.0.1:PORT over UDP, or nothing.
dns_status() {
  if command -v kdig >/dev/null; then
    kdig @127.0.0.1 -p "$1" "$2" SOA +timeout=1 +retry=0 2>/dev/null \
      | sed -n 's/.*->>HEADER<<-.*status: \([A-Z]*\).*/\1/p'
  else
    perl -MIO::Socket::INET -e '
      my ($port, $name) = @ARGV; my $q = pack("n n n n n n", 4242, 0, 1, 0, 0, 0);
      $q .= join("", map { chr(length $_) . $_ } grep { length } split /\./, $name) . "\0" . pack("n n", 6, 1);
      my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port, Proto => "udp") or exit 0;
      $s->send($q); my $r = ""; my $rin = ""; vec($rin, fileno($s), 1) = 1;
      select(my $rout = $rin, undef, undef, 1) or exit 0; $s->recv($r, 4096);
      my ($id, $flags) = unpack("n n", $r); exit 0 unless $id == 4242 && ($flags & 0x8000);
      my @rc = qw(NOERROR FORMERR SERVFAIL NXDOMAIN NOTIMP REFUSED); print $rc[$flags & 15] // "RCODE" . ($flags & 15), "\n";
    ' "$1" "$2"
  fi
}

# kea_command SOCKET JSON: the server's answer (Kea answers, then closes the connection).
kea_command() {
  perl -MIO::Socket::UNIX -e '
    my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or exit 1;
    print $s $ARGV[1]; shutdown($s, 1); local $/; my $r = <$s>; print $r // "";
  ' "$1" "$2"
}

smoke_knot() {
  local image=$1 name="ms-smoke-knot-$$" port status="" i
  log "smoke: $image"
  docker run --rm --pull never --network host "$image" knotd --version | grep -q 'Knot DNS' || fail "knotd --version"
  docker run --rm --pull never --network none "$image" knotc --version | grep -q 'Knot DNS' || fail "knotc --version"
  docker run --rm --pull never --network none "$image" knotc -c /etc/knot/knot.conf conf-check >/dev/null \
    || fail "the image's /etc/knot/knot.conf does not pass knotc conf-check"
  port=$(free_port)
  mkdir -p "$dir/knot/zones"
  cat > "$dir/knot/knot.conf" <<EOF
server:
    rundir: "$dir/knot"
    listen: 127.0.0.1@$port
log:
  - target: stdout
    any: info
database:
    storage: "$dir/knot/db"
control:
    listen: "$dir/knot/knot.sock"
mod-stats:
  - id: default
mod-dnstap:
  - id: tap
    sink: "unix:$dir/knot/dnstap.sock"
    log-queries: off
    log-responses: on
template:
  - id: default
    storage: "$dir/knot/zones"
    global-module: [ mod-stats/default, mod-dnstap/tap ]
zone:
  - domain: smoke.test
EOF
  cat > "$dir/knot/zones/smoke.test.zone" <<'EOF'
$ORIGIN smoke.test.
$TTL 300
@   SOA ns hostmaster 1 3600 600 86400 300
@   NS  ns
ns  A   127.0.0.1
EOF
  start "$name" "$image" host knotd -c "$dir/knot/knot.conf"
  for i in $(seq 1 30); do
    running_or_fail "$name"
    status=$(dns_status "$port" smoke.test)
    [ -n "$status" ] && break
    [ "$i" -lt 30 ] || { docker logs "$name" 2>&1 | tail -n 20 >&2; fail "knotd did not answer on 127.0.0.1:$port within 15 s"; }
    sleep 0.5
  done
  [ "$status" = NOERROR ] || fail "knotd answered $status for smoke.test SOA (expected NOERROR)"
  status=$(dns_status "$port" .)
  [ -n "$status" ] || fail "knotd did not answer '. SOA'"
  docker exec "$name" knotc -s "$dir/knot/knot.sock" status | grep -q Running || fail "knotc status over $dir/knot/knot.sock"
  docker exec "$name" knotc -s "$dir/knot/knot.sock" stats | grep -q '^mod-stats\.' || fail "knotc stats shows no mod-stats counters"
  log "smoke: knotd $(docker exec "$name" knotd --version | awk '{print $NF}') answers on 127.0.0.1:$port (smoke.test SOA: NOERROR, . SOA: $status), knotc status: Running"
}

kea_config() { # FAMILY(4|6)
  local v=$1 subnet
  if [ "$v" = 4 ]; then
    subnet='"subnet4": [ { "id": 1, "subnet": "192.0.2.0/24", "pools": [ { "pool": "192.0.2.10 - 192.0.2.20" } ] } ]'
  else
    # Without an interface that has a MAC address (here: no network at all) kea-dhcp6 cannot
    # make its default DUID-LLT and refuses to start: give it an enterprise DUID, persisted in
    # the mounted directory (data-directory), not in the container's /var/lib/kea.
    subnet="\"data-directory\": \"$dir/kea\",
    \"server-id\": { \"type\": \"EN\", \"enterprise-id\": 2495, \"identifier\": \"6d732d736d6f6b65\" },
    \"subnet6\": [ { \"id\": 1, \"subnet\": \"2001:db8:1::/64\", \"pools\": [ { \"pool\": \"2001:db8:1::10 - 2001:db8:1::20\" } ] } ]"
  fi
  cat <<EOF
{ "Dhcp$v": {
    "interfaces-config": { "interfaces": [] },
    "control-socket": { "socket-type": "unix", "socket-name": "$dir/kea/kea$v.sock" },
    "lease-database": { "type": "memfile", "persist": true, "name": "$dir/kea/kea-leases$v.csv", "lfc-interval": 3600 },
    "hooks-libraries": [
      { "library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_cmds.so" },
      { "library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_stat_cmds.so" }
    ],
    $subnet,
    "loggers": [ { "name": "kea-dhcp$v", "output_options": [ { "output": "stdout" } ], "severity": "INFO" } ]
} }
EOF
}

smoke_kea() {
  local image=$1 v name answer i
  log "smoke: $image"
  mkdir -p "$dir/kea"
  for v in 4 6; do
    docker run --rm --pull never --network none "$image" "kea-dhcp$v" -V | grep -q . || fail "kea-dhcp$v -V"
    name="ms-smoke-kea$v-$$"
    kea_config "$v" > "$dir/kea/kea-dhcp$v.conf"
    start "$name" "$image" none "kea-dhcp$v" -c "$dir/kea/kea-dhcp$v.conf"
    for i in $(seq 1 30); do
      running_or_fail "$name"
      answer=$(kea_command "$dir/kea/kea$v.sock" '{"command":"status-get"}' 2>/dev/null || true)
      [ -n "$answer" ] && break
      [ "$i" -lt 30 ] || { docker logs "$name" 2>&1 | tail -n 20 >&2; fail "kea-dhcp$v did not answer on $dir/kea/kea$v.sock within 15 s"; }
      sleep 0.5
    done
    grep -q '"result": 0' <<<"$answer" || fail "kea-dhcp$v status-get answered: $answer"
    answer=$(kea_command "$dir/kea/kea$v.sock" '{"command":"list-commands"}')
    grep -q "\"lease$v-get-all\"" <<<"$answer" || fail "kea-dhcp$v: lease_cmds not loaded (list-commands: $answer)"
    grep -q "\"stat-lease$v-get\"" <<<"$answer" || fail "kea-dhcp$v: stat_cmds not loaded (list-commands: $answer)"
    answer=$(kea_command "$dir/kea/kea$v.sock" "{\"command\":\"stat-lease$v-get\"}")
    grep -q '"result": 0' <<<"$answer" || fail "kea-dhcp$v stat-lease$v-get answered: $answer"
    [ -f "$dir/kea/kea-leases$v.csv" ] || fail "kea-dhcp$v wrote no lease file in the mounted directory"
    [ "$v" = 4 ] || [ -f "$dir/kea/kea-dhcp6-serverid" ] || fail "kea-dhcp6 did not persist its DUID in the mounted directory"
    log "smoke: kea-dhcp$v $(docker exec "$name" "kea-dhcp$v" -v) answers status-get (result 0) with lease_cmds and stat_cmds loaded"
    docker rm -f "$name" >/dev/null
  done
}

for check in "${checks[@]}"; do
  case "$check" in
    knot=*) smoke_knot "${check#knot=}" ;;
    kea=*) smoke_kea "${check#kea=}" ;;
  esac
done
