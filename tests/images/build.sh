#!/usr/bin/env bash
# Build the systemd test images for Debian 12 and 13: modwsgi-test/debian:12 and :13.
#
# No container registry is reachable on the test machines, so the root file system
# is made with debootstrap from the Debian mirror the host's own apt uses (read from
# the host's apt configuration, never written into the repository), and the host's CA
# bundle is trusted inside the image so pip reaches PyPI through the same proxy.
# Where a registry is reachable, MODWSGI_IMAGE_SOURCE=registry starts from the
# official debian images instead (tests/images/Dockerfile.debian).
#
# Images are cached by a tag derived from this script, the CA bundle and the mirror,
# so a second run builds nothing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo_name=modwsgi-test/debian
source_kind=${MODWSGI_IMAGE_SOURCE:-debootstrap}
ca_bundle=${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}
[ -f "$ca_bundle" ] || ca_bundle=/etc/ssl/certs/ca-certificates.crt

suite_for() {
  case "$1" in
    12) echo bookworm ;;
    13) echo trixie ;;
    *) echo "unsupported Debian version '$1' (valid: 12, 13)" >&2; return 1 ;;
  esac
}

# The host's Debian mirror and security mirror, from its own apt configuration.
host_site_for_release() {
  # shellcheck disable=SC2016  # $(SITE) and $(RELEASE) are apt's own placeholders
  apt-get indextargets --format '$(SITE) $(RELEASE)' 2>/dev/null |
    awk -v rel="$1" '$2 == rel { print $1; exit }'
}

host_mirrors() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "building test images needs a Debian host with apt, or MODWSGI_IMAGE_SOURCE=registry" >&2
    return 1
  fi
  if ! command -v debootstrap >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "building test images needs debootstrap: apt-get install debootstrap" >&2
      return 1
    fi
    echo "==> installing debootstrap"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  # shellcheck source=/dev/null
  . /etc/os-release
  mirror=${MODWSGI_DEBIAN_MIRROR:-$(host_site_for_release "$VERSION_CODENAME")}
  security=${MODWSGI_DEBIAN_SECURITY_MIRROR:-$(host_site_for_release "$VERSION_CODENAME-security")}
  if [ -z "$mirror" ]; then
    echo "could not read a Debian mirror from the host's apt sources; set MODWSGI_DEBIAN_MIRROR" >&2
    return 1
  fi
}

image_hash() {
  { cat "$0" "$here/Dockerfile.debian" "$ca_bundle"; echo "$source_kind ${mirror:-} ${security:-}"; } |
    sha256sum | cut -c1-12
}

# Split the host bundle into one certificate per file, the layout update-ca-certificates expects.
install_ca_bundle() {
  local dest=$1/usr/local/share/ca-certificates/host
  mkdir -p "$dest"
  awk -v dir="$dest" '
    /-----BEGIN CERTIFICATE-----/ { n++; file = sprintf("%s/host-%03d.crt", dir, n) }
    n > 0 { print > file }
    /-----END CERTIFICATE-----/ { close(file) }
  ' "$ca_bundle"
}

build_debootstrap() (
  version=$1 suite=$2 tag=$3
  root=$(mktemp -d /var/tmp/modwsgi-image.XXXXXX)
  trap 'rm -rf "$root" "$root.log"' EXIT
  proxy=
  eval "$(apt-config shell proxy Acquire::http::Proxy)"
  echo "==> debootstrap $suite (Debian $version)"
  http_proxy=${proxy:-${http_proxy:-}} debootstrap --variant=minbase \
    --include=python3,sudo,systemd,systemd-sysv,dbus,ca-certificates \
    "$suite" "$root" "$mirror" >"$root.log" 2>&1 || { tail -n 30 "$root.log" >&2; return 1; }
  rm -f "$root.log"

  {
    echo "deb $mirror $suite main"
    echo "deb $mirror $suite-updates main"
    [ -n "$security" ] && echo "deb $security $suite-security main"
  } >"$root/etc/apt/sources.list"
  # Carry over the host's apt network settings (proxy, validity checks), nothing else.
  for conf in /etc/apt/apt.conf.d/*; do
    grep -q '^[[:space:]]*Acquire' "$conf" 2>/dev/null && cp "$conf" "$root/etc/apt/apt.conf.d/"
  done
  install_ca_bundle "$root"
  chroot "$root" update-ca-certificates >/dev/null 2>&1
  # Units that cannot work in an unprivileged container only add noise.
  for unit in systemd-remount-fs.service systemd-udevd.service systemd-udev-trigger.service \
              getty.target console-getty.service systemd-firstboot.service; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
  done
  : >"$root/etc/machine-id"
  chroot "$root" apt-get clean
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin

  tar -C "$root" -c . | docker import \
    --change 'ENV container=docker' \
    --change 'CMD ["/lib/systemd/systemd"]' \
    --change "LABEL org.modwsgi.test-image=$tag" \
    - "$tag" >/dev/null
)

build_registry() (
  suite=$2 tag=$3
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' EXIT
  cp "$here/Dockerfile.debian" "$ctx/Dockerfile"
  install_ca_bundle "$ctx"
  docker build -q --build-arg "SUITE=$suite" -t "$tag" "$ctx" >/dev/null
)

build_one() {
  local version=$1 suite tag
  suite=$(suite_for "$version")
  tag="$repo_name:$version-$(image_hash)"
  if docker image inspect "$tag" >/dev/null 2>&1; then
    echo "==> $repo_name:$version is up to date ($tag)"
  else
    case "$source_kind" in
      debootstrap) build_debootstrap "$version" "$suite" "$tag" ;;
      registry) build_registry "$version" "$suite" "$tag" ;;
      *) echo "MODWSGI_IMAGE_SOURCE must be debootstrap or registry, got '$source_kind'" >&2; return 1 ;;
    esac
    echo "==> built $tag"
  fi
  docker tag "$tag" "$repo_name:$version"
}

[ "$source_kind" = registry ] || host_mirrors
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(12 13)
pids=()
for v in "${versions[@]}"; do
  build_one "$v" &
  pids+=($!)
done
rc=0
for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
exit $rc
