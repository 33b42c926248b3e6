#!/usr/bin/env bash
# Makes the host's Docker Engine usable by the docker-runtime tests: installs Debian's
# docker.io and busybox-static when missing, starts dockerd in the background when nothing
# answers on /var/run/docker.sock, and imports the image tsswarm-busybox (a rootfs of the
# static busybox: no registry is reachable here). Idempotent and quick when all is in place.
# Usage: setup-docker.sh [--no-apt-update]  (.ci/run passes it after its own apt-get update)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# Test files that run in parallel may call this at once: one at a time.
exec 9>/run/tsswarm-setup-docker.lock
flock 9

IMAGE=tsswarm-busybox
SOCK=/var/run/docker.sock

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
# The image needs the static build (a dynamic busybox would miss its libraries inside).
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
if [ ${#need[@]} -gt 0 ]; then
  # --no-apt-update: the caller just updated the package lists (.ci/run); update only if that was not enough.
  if [ "${1:-}" != "--no-apt-update" ] || ! apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi

# The docker CLI may come from the package or be a static binary in /usr/local/bin.
DOCKER=$(command -v docker)

if ! "$DOCKER" version >/dev/null 2>&1; then
  mkdir -p /var/log
  # 9>&-: dockerd must not inherit the lock, or every later run of this script waits for it.
  nohup dockerd >/var/log/dockerd.log 2>&1 9>&- &
  for _ in $(seq 1 120); do
    "$DOCKER" version >/dev/null 2>&1 && break
    sleep 0.5
  done
  "$DOCKER" version >/dev/null 2>&1 || { echo "dockerd did not come up; see /var/log/dockerd.log" >&2; tail -20 /var/log/dockerd.log >&2; exit 1; }
fi

if ! "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root/bin" "$root/tmp" "$root/etc"
  cp /bin/busybox "$root/bin/busybox"
  for applet in sh sleep echo cat true false hostname env ls ps kill id pwd wget nc; do
    ln -s busybox "$root/bin/$applet"
  done
  tar -C "$root" -c . | "$DOCKER" import -c 'CMD ["/bin/sh"]' - "$IMAGE" >/dev/null
fi
echo "docker ready: $SOCK, image $IMAGE"
