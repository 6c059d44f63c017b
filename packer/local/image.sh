#!/usr/bin/env bash
# `npm run image`: builds the runner image with the repository's own Packer
# template (its qemu source), offline but for Debian's package registry:
#   1. packer/local/base-image.sh: a Debian 12 base (cached under .cache/vm);
#   2. packer build -only=qemu.runner with that base as the source image, a
#      one-off cloud-init seed with a random build password, the accelerator
#      packer/local/accel.sh finds (kvm, else tcg), and the bundle from
#      `npm run bundle`; provisioning runs packer/scripts/install.sh as on AWS.
# Result: build/image/airlock-runner.qcow2 with vmlinuz and initrd.img beside
# it (the base has no boot loader: boot it with -kernel/-initrd and
# root=LABEL=airlock-root, as test/vm/run.sh does).
#
# Works with Debian's packer 1.6.6, which rejects plugins.pkr.hcl: the template
# is copied without it, as CI's validate step does. Needs root (base-image.sh).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=$repo/build/image
bundle=$repo/build/airlock-bundle.tgz

log() { printf 'image: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
[ -f "$bundle" ] || die "no $bundle: run npm run bundle first"
command -v packer >/dev/null || die "packer not found (Debian: apt-get install packer)"

t0=$(date +%s)
base=$(nice -n 19 bash "$here/base-image.sh")
t1=$(date +%s)
accel=$(bash "$here/accel.sh" "$base/vmlinuz")
log "base image $base ($(( t1 - t0 )) s), accelerator $accel"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/template" "$work/seed" "$out"
cp "$repo"/packer/{variables,sources,build}.pkr.hcl "$work/template/"

# The build login exists only for this build (the template locks it at the
# end); a fresh random password each time, never a checked-in one.
password=$(openssl rand -hex 16)
sed "s/password: packer$/password: $password/" "$repo/packer/http/user-data" >"$work/seed/user-data"
grep -q "password: $password" "$work/seed/user-data" || die "could not set the build password in the seed"
cp "$repo/packer/http/meta-data" "$work/seed/meta-data"

cpu=max
[ "$accel" = kvm ] && cpu=host
cat >"$work/local.pkrvars.hcl" <<VARS
ubuntu_image_url      = "$base/base.qcow2"
ubuntu_image_checksum = "sha256:$(cut -d' ' -f1 "$base/SHA256SUMS")"
qemu_accelerator      = "$accel"
qemu_disk_size        = "4G"
qemu_memory           = 2048
qemu_cpus             = 2
qemu_output_directory = "$work/output"
cloud_init_dir        = "$work/seed"
source_root           = "$repo"
airlock_bundle        = "$bundle"
qemu_extra_args = [
  ["-cpu", "$cpu"],
  ["-kernel", "$base/vmlinuz"],
  ["-initrd", "$base/initrd.img"],
  ["-append", "root=LABEL=airlock-root rw console=ttyS0"],
  ["-serial", "file:$out/build-serial.log"],
]
VARS

log "packer build (log: $out/packer.log)"
if ! PACKER_SSH_PASSWORD=$password CHECKPOINT_DISABLE=1 PACKER_CACHE_DIR=$repo/.cache/packer \
  nice -n 19 packer build -force -color=false -only=runner.qemu.runner -var-file="$work/local.pkrvars.hcl" \
  "$work/template" >"$out/packer.log" 2>&1; then
  tail -n 30 "$out/packer.log" >&2
  die "packer build failed (full log: $out/packer.log, guest console: $out/build-serial.log)"
fi
t2=$(date +%s)
built=$(find "$work/output" -name '*.qcow2' -print -quit)
[ -n "$built" ] || die "packer produced no qcow2"
mv -f "$built" "$out/airlock-runner.qcow2"
# Provisioning leaves the kernel alone, so the base's kernel is the image's.
cp "$base/vmlinuz" "$base/initrd.img" "$out/"
(cd "$out" && sha256sum airlock-runner.qcow2 vmlinuz initrd.img >SHA256SUMS)
log "built $out/airlock-runner.qcow2: packer $(( t2 - t1 )) s, total $(( t2 - t0 )) s"
