#!/bin/sh
# `make image-test`: the image smoke test (tests/image/test_image.py). Starts Docker's daemon
# (vfs storage: works inside containers and sandboxes) when none answers, and stops it after.
set -eu
python=${1:?usage: run.sh PYTHON}
started=""
if ! docker info >/dev/null 2>&1; then
  command -v dockerd >/dev/null || { echo "Docker is not installed: apt-get install docker.io docker-compose" >&2; exit 1; }
  dockerd --storage-driver=vfs >/tmp/chatkitd-image-test-dockerd.log 2>&1 &
  started=$!
  trap 'kill "$started" 2>/dev/null; wait "$started" 2>/dev/null || true' EXIT
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
fi
CHATKITD_IMAGE_TEST=1 "$python" -m pytest -q -x --timeout 3600 tests/image
