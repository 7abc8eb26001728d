#!/bin/sh
# A Debian bookworm base image built from Debian's packages with debootstrap, for machines that
# reach Debian's mirror but no image registry (the image smoke test passes it as BASE_IMAGE).
# It has Python 3.11 with venv, and trusts what this machine trusts (a TLS-inspecting egress
# proxy's CA included), so pip and npm inside `docker build` reach their registries as the host does.
# debootstrap's tree is kept as a tarball in CHATKITD_IMAGE_CACHE (default
# ~/.cache/chatkitd-image-test), so a machine whose Docker images were wiped imports it again in
# seconds instead of minutes; delete the tarball to bootstrap afresh.
#   usage: tests/image/base-image.sh TAG
set -eu
tag=${1:?usage: base-image.sh TAG}
cache=${CHATKITD_IMAGE_CACHE:-${HOME:-/root}/.cache/chatkitd-image-test}
tarball=$cache/debootstrap-bookworm-minbase.tar
mkdir -p "$cache"
root=$(mktemp -d /tmp/chatkitd-rootfs.XXXXXX)
chmod 755 "$root"  # it becomes the image's /, which every user must traverse (mktemp made it 0700)
cleanup() {
  for mount in proc sys dev/pts dev; do umount "$root/$mount" 2>/dev/null || true; done
  rm -rf --one-file-system "$root" "$root.log" "$tarball.partial"
}
trap cleanup EXIT
if [ -s "$tarball" ]; then
  tar -C "$root" -xf "$tarball"
else
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
  mirror=${mirror:-http://deb.debian.org/debian}
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$root" "$mirror" >"$root.log" 2>&1 \
    || { tail -n 30 "$root.log"; exit 1; }
  for mount in proc sys dev/pts dev; do umount "$root/$mount" 2>/dev/null || true; done
  rm -rf "$root"/var/cache/apt/archives/*.deb
  tar -C "$root" --one-file-system -cf "$tarball.partial" . && mv "$tarball.partial" "$tarball"
fi
# The bundle as this machine has it, and its local CAs, which survive update-ca-certificates.
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
bundle=/etc/ssl/certs/ca-certificates.crt
tar -C "$root" --one-file-system -c . | docker import \
  --change "ENV PIP_CERT=$bundle" \
  --change "ENV SSL_CERT_FILE=$bundle" \
  --change "ENV NODE_EXTRA_CA_CERTS=$bundle" \
  --change "ENV LANG=C.UTF-8" \
  --change 'CMD ["/bin/bash"]' \
  - "$tag" >/dev/null
echo "$tag"
