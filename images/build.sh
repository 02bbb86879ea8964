#!/usr/bin/env bash
# Builds every image docker-compose.yml uses, locally, with no image registry:
#   managedservers/debian:bookworm   minimal Debian 12 made with debootstrap, then `docker import`
#   managedservers/rabbitmq:local    Debian rabbitmq-server + management plugin     (images/rabbitmq)
#   managedservers/postgres:local    Debian postgresql-15                           (images/postgres)
#   managedservers/silo:local        the silo + API, published self-contained       (images/silo)
# The three Dockerfiles start FROM the local base, so `docker build` pulls nothing; their
# `apt-get` steps use the Debian mirror (host network, like the host's own apt).
#
# Usage: images/build.sh [--rebuild] [base|rabbitmq|postgres|silo ...]
#   no names: all four. The base is made once and kept (debootstrap takes minutes); --rebuild
#   makes it again. The other images are rebuilt every time (Docker's layer cache keeps that cheap).
# Environment: DEBIAN_MIRROR (default: the host's first Debian mirror, else deb.debian.org).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

rebuild=false
targets=()
for arg in "$@"; do
  case "$arg" in
    --rebuild) rebuild=true ;;
    base|rabbitmq|postgres|silo) targets+=("$arg") ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$arg' (see --help)" ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(base rabbitmq postgres silo)
wants() { local t; for t in "${targets[@]}"; do [ "$t" = "$1" ] && return 0; done; return 1; }

command -v docker >/dev/null || die "docker is required (apt-get install docker.io)"
docker info >/dev/null 2>&1 || die "the Docker daemon does not answer (is it running? are you root or in the docker group?)"

base_image=managedservers/debian:bookworm

host_mirror() {
  # deb822 sources first (Debian 12 default), then the one-line format.
  local m
  m=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -E '/debian/?$' | head -n 1 || true)
  [ -n "$m" ] || m=$(grep -hsE '^deb +(\[[^]]*\] +)?https?://' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
      | sed -E 's/^deb +(\[[^]]*\] +)?//' | awk '{print $1}' | grep -E '/debian/?$' | head -n 1 || true)
  echo "${m:-http://deb.debian.org/debian}"
}

build_base() {
  if ! $rebuild && docker image inspect "$base_image" >/dev/null 2>&1; then
    log "$base_image exists (pass --rebuild to make it again)"
    return
  fi
  [ "$(id -u)" = 0 ] || die "debootstrap needs root"
  if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null; }
  fi
  local mirror security work
  mirror=${DEBIAN_MIRROR:-$(host_mirror)}
  mirror=${mirror%/}
  security="${mirror%/debian}/debian-security"
  work=$(mktemp -d /tmp/managedservers-rootfs.XXXXXX)
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" EXIT
  log "debootstrap --variant=minbase bookworm from $mirror (a few minutes)"
  debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" > "$work/debootstrap.log" 2>&1 \
    || { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
  local r="$work/rootfs"
  # The same small-image apt/dpkg settings as Debian's official images.
  cat > "$r/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
EOF
  cat > "$r/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' > "$r/etc/apt/apt.conf.d/docker-no-languages"
  echo 'Acquire::GzipIndexes "true";' > "$r/etc/apt/apt.conf.d/docker-gzip-indexes"
  echo 'APT::Install-Recommends "false"; APT::Install-Suggests "false";' > "$r/etc/apt/apt.conf.d/docker-no-recommends"
  echo 'force-unsafe-io' > "$r/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  cat > "$r/etc/dpkg/dpkg.cfg.d/docker-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
  # Keep the image small and free of this host's identity.
  rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/apt/archives/*.deb "$r"/var/log/* \
    "$r"/usr/share/doc/*/changelog* "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/tmp/* "$r"/var/tmp/*
  : > "$r/etc/machine-id"
  echo "managedservers" > "$r/etc/hostname"
  log "importing $base_image"
  tar --numeric-owner --xattrs -C "$r" -c . | docker import \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' \
    --message "debootstrap --variant=minbase bookworm $mirror" - "$base_image" >/dev/null
  rm -rf "$work"
  trap - EXIT
  docker image ls "$base_image" >&2
}

require_base() {
  docker image inspect "$base_image" >/dev/null 2>&1 || die "$base_image is missing: run images/build.sh base"
}

docker_build() {
  local name=$1 context=$2
  require_base
  log "building managedservers/$name:local"
  # --network host: apt-get inside the build reaches the mirror the way the host does.
  # No --pull: the base is local and nothing else is FROM'd.
  local out="${TMPDIR:-/tmp}/managedservers-build-$name.log"
  if ! docker build --network host -t "managedservers/$name:local" -f "$root/images/$name/Dockerfile" "$context" > "$out" 2>&1; then
    tail -n 40 "$out" >&2
    die "docker build of managedservers/$name:local failed (whole output: $out)"
  fi
}

build_silo() {
  command -v dotnet >/dev/null || die "the .NET 10 SDK is required to publish the silo (dotnet not on PATH)"
  local out="$root/images/silo/app"
  log "dotnet publish Silo (Release, self-contained linux-x64) -> images/silo/app"
  rm -rf "$out"
  dotnet publish "$root/Silo/Silo.csproj" -c Release -r linux-x64 --self-contained true \
    -o "$out" -nologo -v quiet
  docker_build silo "$root/images/silo"
}

wants base && build_base
wants rabbitmq && docker_build rabbitmq "$root/images/rabbitmq"
wants postgres && docker_build postgres "$root/images/postgres"
wants silo && build_silo
log "done: $(docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep '^managedservers/' | tr '\n' ' ')"
