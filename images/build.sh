#!/usr/bin/env bash
# Builds every image docker-compose.yml and the agent's container runtime use, locally, with no
# image registry:
#   managedservers/debian:bookworm   minimal Debian 12 made with debootstrap, then `docker import`
#   managedservers/rabbitmq:local    Debian rabbitmq-server + management plugin     (images/rabbitmq)
#   managedservers/postgres:local    Debian postgresql-15                           (images/postgres)
#   managedservers/silo:local        the silo + API, published self-contained       (images/silo)
#   managedservers/knot:V-msR        Debian knot (knotd, knotc)                     (images/knot)
#   managedservers/kea:V-msR         Debian kea-dhcp4/6-server + lease/stat hooks   (images/kea)
# The Dockerfiles start FROM the local base, so `docker build` pulls nothing; their `apt-get`
# steps use the Debian mirror (host network, like the host's own apt).
# knot and kea are tagged <Debian package version without the Debian revision>-ms<REVISION file>,
# e.g. managedservers/knot:3.2.6-ms1, and labelled (docs/images.md). They are rebuilt only when
# their inputs change (files in their directory, base image id): otherwise "... is up to date".
#
# Usage: images/build.sh [--rebuild] [--no-cache] [--no-smoke] [base|rabbitmq|postgres|silo|knot|kea ...]
#        images/build.sh --print-tags [NAME ...]
#   no names: all six. The base is made once and kept (debootstrap takes minutes), and made
#   first when a named image needs it and it is missing; --rebuild makes it again. rabbitmq,
#   postgres and silo are rebuilt every time (Docker's layer cache keeps that cheap).
#   --no-cache    build knot and kea even when up to date, without Docker's layer cache.
#   --no-smoke    skip images/smoke.sh after building knot or kea.
#   --print-tags  print the image reference of each name (default: all), one a line, and build
#                 nothing; fails if knot or kea is not built from the current inputs.
# Environment: DEBIAN_MIRROR (default: the host's first Debian mirror, else deb.debian.org).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

rebuild=false no_cache=false smoke=true print_tags=false
targets=()
for arg in "$@"; do
  case "$arg" in
    --rebuild) rebuild=true ;;
    --no-cache) no_cache=true ;;
    --no-smoke) smoke=false ;;
    --print-tags) print_tags=true ;;
    base|rabbitmq|postgres|silo|knot|kea) targets+=("$arg") ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$arg' (see --help)" ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(base rabbitmq postgres silo knot kea)
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
  docker image inspect "$base_image" >/dev/null 2>&1 && return
  log "$base_image is missing: making it first"
  build_base
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

# --- Versioned engine images (knot, kea) -------------------------------------------------------
# name -> component label, Debian package whose version names the image.
component_of() { case "$1" in knot) echo dns ;; kea) echo dhcp ;; esac; }
package_of() { case "$1" in knot) echo knot ;; kea) echo kea-dhcp4-server ;; esac; }
# Bumped when the way images are built or labelled here changes, so old images are not reused.
inputs_scheme=1

# The hash of everything the image is made from: this scheme, the base image id, and the name,
# mode and content of every file in images/NAME/ (the build context).
inputs_hash() {
  local dir="$root/images/$1" base_id
  base_id=$(docker image inspect -f '{{.Id}}' "$base_image")
  {
    echo "scheme $inputs_scheme"
    echo "base $base_id"
    (cd "$dir" && find . -type f -printf '%m %p\n' | LC_ALL=C sort \
      && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-32
}

# Prints the tag of the image of NAME built from inputs HASH, if there is one and it still
# carries the tag its labels name; fails otherwise. Two docker calls, no container.
current_tag() {
  local repo="managedservers/$1" hash=$2 tag id
  while read -r tag id; do
    [ -n "$id" ] || continue
    if [ "$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.version"}}' "$id")" = "$tag" ]; then
      echo "$tag"
      return 0
    fi
  done < <(docker image ls --no-trunc --format '{{.Tag}} {{.ID}}' --filter "label=io.managedservers.inputs=$hash" "$repo")
  return 1
}

revision_of() {
  local rev
  rev=$(tr -d '[:space:]' < "$root/images/$1/REVISION") || die "images/$1/REVISION is missing"
  [[ "$rev" =~ ^[0-9A-Za-z.]+$ ]] || die "images/$1/REVISION must hold a revision such as 1 (found '$rev')"
  echo "$rev"
}

build_versioned() {
  local name=$1 repo="managedservers/$1" hash rev tag full upstream old_id new_id t0
  t0=$(date +%s)
  require_base
  rev=$(revision_of "$name")
  hash=$(inputs_hash "$name")
  if ! $no_cache && tag=$(current_tag "$name" "$hash"); then
    log "$repo:$tag is up to date"
    return
  fi
  local scratch="$repo:build-$$" out="${TMPDIR:-/tmp}/managedservers-build-$name.log"
  log "building $repo (inputs $hash)"
  local cache_args=()
  $no_cache && cache_args=(--no-cache)
  if ! docker build --network host "${cache_args[@]}" -t "$scratch" -f "$root/images/$name/Dockerfile" \
      "$root/images/$name" > "$out" 2>&1; then
    tail -n 40 "$out" >&2
    die "docker build of $repo failed (whole output: $out)"
  fi
  # The version is read from the image just built (what is installed, whatever the layer cache
  # or the mirror did), then written into the labels and the tag by a metadata-only build.
  # shellcheck disable=SC2016  # ${Version} is dpkg-query's, not the shell's
  full=$(docker run --rm --pull never --network none --entrypoint dpkg-query "$scratch" -W -f '${Version}' "$(package_of "$name")") \
    || { docker rmi "$scratch" >/dev/null 2>&1 || true; die "cannot read the version of $(package_of "$name") in $scratch"; }
  upstream=${full#*:}       # epoch
  upstream=${upstream%-*}   # Debian revision (3.2.6-1+deb12u1 -> 3.2.6)
  # A tag allows [A-Za-z0-9_.-]: e.g. 2.5.0~rc1 -> 2.5.0_rc1.
  tag="$(printf '%s' "$upstream" | tr -c 'A-Za-z0-9_.-' '_')-ms$rev"
  old_id=$(docker image inspect -f '{{.Id}}' "$repo:$tag" 2>/dev/null || true)
  if ! docker build -t "$repo:$tag" - >> "$out" 2>&1 <<EOF
FROM $scratch
LABEL io.managedservers.component="$(component_of "$name")" \\
      io.managedservers.engine-version="$upstream" \\
      io.managedservers.revision="$rev" \\
      org.opencontainers.image.version="$tag" \\
      io.managedservers.inputs="$hash"
EOF
  then
    tail -n 20 "$out" >&2
    docker rmi "$scratch" >/dev/null 2>&1 || true
    die "labelling $repo:$tag failed (whole output: $out)"
  fi
  docker rmi "$scratch" >/dev/null
  new_id=$(docker image inspect -f '{{.Id}}' "$repo:$tag")
  log "built $repo:$tag ($full) in $(( $(date +%s) - t0 ))s"
  if $smoke && ! "$root/images/smoke.sh" "$name=$repo:$tag"; then
    docker rmi "$repo:$tag" >/dev/null 2>&1 || true
    # Give the tag back to the image it named before (not up to date: the next run builds again).
    [ -z "$old_id" ] || docker tag "$old_id" "$repo:$tag" 2>/dev/null || true
    die "the smoke check of $repo:$tag failed: the new image is removed"
  fi
  # The image this tag named before, if nothing else names it now (no container uses it either).
  if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ] \
      && [ -z "$(docker image inspect -f '{{join .RepoTags " "}}' "$old_id" 2>/dev/null)" ]; then
    docker rmi "$old_id" >/dev/null 2>&1 || true
  fi
}

print_tag() {
  local name=$1 hash tag
  case "$name" in
    base) docker image inspect "$base_image" >/dev/null 2>&1 || die "$base_image is not built"; echo "$base_image" ;;
    rabbitmq|postgres|silo)
      docker image inspect "managedservers/$name:local" >/dev/null 2>&1 || die "managedservers/$name:local is not built"
      echo "managedservers/$name:local" ;;
    knot|kea)
      docker image inspect "$base_image" >/dev/null 2>&1 || die "$base_image is not built"
      hash=$(inputs_hash "$name")
      tag=$(current_tag "$name" "$hash") || die "managedservers/$name is not built from the current inputs: run images/build.sh $name"
      echo "managedservers/$name:$tag" ;;
  esac
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

if $print_tags; then
  for t in "${targets[@]}"; do print_tag "$t"; done
  exit 0
fi

# One build at a time on this Docker daemon (worktrees, parallel test runs): the second waits,
# then usually finds its images up to date.
lock=/tmp/managedservers-images.lock
if command -v flock >/dev/null && { exec 9>>"$lock"; } 2>/dev/null; then
  flock -n 9 || { log "waiting for another images/build.sh (lock $lock)"; flock 9; }
fi
started=$(date +%s)

wants base && build_base
wants rabbitmq && docker_build rabbitmq "$root/images/rabbitmq"
wants postgres && docker_build postgres "$root/images/postgres"
wants silo && build_silo
wants knot && build_versioned knot
wants kea && build_versioned kea
log "done in $(( $(date +%s) - started ))s: $(docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep '^managedservers/' | tr '\n' ' ')"
