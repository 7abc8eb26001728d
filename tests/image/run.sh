#!/bin/sh
# `make image-test`: the image smoke test (tests/image/test_image.py). Starts Docker's daemon
# when none answers, and stops it after (its images stay in /var/lib/docker for the next run).
# dockerd picks its storage driver: overlay2 where the kernel allows it, vfs otherwise (inside a
# container); vfs copies every layer whole, so a cold run takes many times longer there.
set -eu
python=${1:?usage: run.sh PYTHON}
# Docker's engine, Debian's docker-compose and debootstrap (for the base image), from Debian's
# packages when missing (a `docker` client alone, as some machines have, runs nothing).
missing=""
command -v dockerd >/dev/null || missing="$missing docker.io"
command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || missing="$missing docker-compose"
command -v debootstrap >/dev/null || [ -n "${CHATKITD_BASE_IMAGE:-}" ] || missing="$missing debootstrap"
if [ -n "$missing" ]; then
  command -v apt-get >/dev/null || { echo "Install:$missing" >&2; exit 1; }
  echo "Installing$missing from Debian's packages" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
started=""
if ! docker info >/dev/null 2>&1; then
  dockerd >/tmp/chatkitd-image-test-dockerd.log 2>&1 &
  started=$!
  trap 'kill "$started" 2>/dev/null; wait "$started" 2>/dev/null || true' EXIT
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
fi
CHATKITD_IMAGE_TEST=1 "$python" -m pytest -q -x --timeout 3600 --durations=0 tests/image
