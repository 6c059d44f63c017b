#!/usr/bin/env bash
# Builds the local Debian 12 base image that `npm run image` feeds to Packer's
# qemu source in place of Ubuntu's cloud image, so a local build needs nothing
# but Debian's package registry.
#
# usage: base-image.sh [CACHE_DIR]     (default .cache/vm under the checkout)
#
# Prints the directory holding the result:
#   base.qcow2   one ext4 file system on the whole disk (label airlock-root),
#                no partition table and no boot loader: Packer and
#                test/vm/run.sh boot it with QEMU's direct kernel boot
#   vmlinuz, initrd.img   the image's own kernel and initramfs, for -kernel/-initrd
#   SHA256SUMS   the checksum Packer's iso_checksum takes
# The directory name is a hash of this script, so a changed package list or
# hook builds a new base and an unchanged one is reused (CI's second run skips
# mmdebstrap).
#
# First-boot user setup is cloud-init (NoCloud), as on Ubuntu's cloud image, so
# the template's build login, `cloud-init status --wait` and `cloud-init clean`
# work unchanged. cloud-init's own network configuration is off: one
# systemd-networkd file does DHCP on any wired interface, which is all a
# QEMU user-mode NIC needs, and keeps Python out of the network path.
# network-online.target (airlock.service wants it) waits for any one link, at
# most 60 s, instead of every link for 2 minutes.
# systemd-firstboot is masked and the time zone (UTC) and locale (C.UTF-8) are
# set: the template's `cloud-init clean --machine-id` makes the image's next
# boot a first boot, and systemd-firstboot would then wait on the console for
# answers (locale, time zone, root password) and hold the whole boot (seen:
# sysusers, udev and /dev/ttyS0 all stuck behind it). cloud-init is the
# first-boot setup here. Its locale module is off (no locales package; user-data
# can still set one); manage_etc_hosts gives the hostname an /etc/hosts line.
#
# Needs root (file owners in the image are part of the result) and mmdebstrap,
# e2fsprogs (mkfs.ext4 -d fills the file system without a loop mount), qemu-utils.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${1:-$repo/.cache/vm}
readonly SUITE=bookworm
readonly MIRROR=${AIRLOCK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
readonly DISK_SIZE=3G
# systemd-sysv: systemd as PID 1. linux-image-cloud-amd64: virtio drivers
# without the hardware zoo, so the initramfs and boot stay small under TCG.
# curl, iproute2, procps: used by the in-guest checks (test/vm) and by people.
# openjdk-17-jre-headless: runner images often carry a JDK, and with one the
# trust install's Java path (keytool, ca-certificates-java's hook) runs for real.
readonly PACKAGES=systemd,systemd-sysv,udev,dbus,linux-image-cloud-amd64,initramfs-tools,nftables,openssl,ca-certificates,openssh-server,sudo,cloud-init,iproute2,procps,curl,less,openjdk-17-jre-headless

log() { printf 'base-image: %s\n' "$*" >&2; }
[ "$(id -u)" = 0 ] || { log "must run as root (mmdebstrap root mode, file owners)"; exit 1; }

key=$({ cat "$0"; echo "$SUITE $MIRROR $DISK_SIZE"; } | sha256sum | cut -c1-16)
out=$cache/base-$key
if [ -f "$out/SHA256SUMS" ]; then
  log "cached: $out"
  printf '%s\n' "$out"
  exit 0
fi

work=$(mktemp -d "$cache.tmp.XXXXXX" 2>/dev/null || { mkdir -p "$cache"; mktemp -d "$cache.tmp.XXXXXX"; })
trap 'rm -rf "$work"' EXIT
root=$work/root

started=$(date +%s)
# The hooks run on the host with the new root as $1.
mmdebstrap --mode=root --variant=apt --include="$PACKAGES" \
  --customize-hook='echo airlock-base >"$1/etc/hostname"' \
  --customize-hook='printf "LABEL=airlock-root / ext4 rw,errors=remount-ro 0 1\n" >"$1/etc/fstab"' \
  --customize-hook='mkdir -p "$1/etc/systemd/network" && printf "[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\n" >"$1/etc/systemd/network/50-wired.network"' \
  --customize-hook='chroot "$1" systemctl enable systemd-networkd.service' \
  --customize-hook='mkdir -p "$1/etc/systemd/system/systemd-networkd-wait-online.service.d" && printf "[Service]\nExecStart=\nExecStart=/lib/systemd/systemd-networkd-wait-online --any --timeout=60\n" >"$1/etc/systemd/system/systemd-networkd-wait-online.service.d/any.conf"' \
  --customize-hook='mkdir -p "$1/etc/cloud/cloud.cfg.d" && printf "datasource_list: [NoCloud, None]\nnetwork: {config: disabled}\nmanage_etc_hosts: localhost\nlocale: false\n" >"$1/etc/cloud/cloud.cfg.d/90-airlock-base.cfg"' \
  --customize-hook='ln -sf /usr/share/zoneinfo/Etc/UTC "$1/etc/localtime" && echo Etc/UTC >"$1/etc/timezone" && echo LANG=C.UTF-8 >"$1/etc/default/locale" && ln -sf default/locale "$1/etc/locale.conf"' \
  --customize-hook='chroot "$1" systemctl mask systemd-firstboot.service' \
  --customize-hook='rm -f "$1"/etc/ssh/ssh_host_*' \
  --customize-hook=': >"$1/etc/machine-id"; rm -f "$1/var/lib/dbus/machine-id"' \
  --customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*' \
  "$SUITE" "$root" "$MIRROR" >&2
log "mmdebstrap: $(( $(date +%s) - started )) s"

# sshd's host keys are removed above so every VM gets its own: Debian's
# openssh-server has no first-boot unit, so add one.
cat >"$root/etc/systemd/system/ssh-hostkeys.service" <<'UNIT'
[Unit]
Description=Generate SSH host keys on first boot
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=ssh.service
UNIT
chroot "$root" systemctl enable ssh-hostkeys.service >&2

cp -L "$root/vmlinuz" "$work/vmlinuz"
cp -L "$root/initrd.img" "$work/initrd.img"
truncate -s "$DISK_SIZE" "$work/base.raw"
mkfs.ext4 -q -F -L airlock-root -d "$root" "$work/base.raw"
qemu-img convert -f raw -O qcow2 "$work/base.raw" "$work/base.qcow2"
rm -rf "$root" "$work/base.raw"
(cd "$work" && sha256sum base.qcow2 >SHA256SUMS)
mkdir -p "$cache"
rm -rf "$out"
mv "$work" "$out"
trap - EXIT
log "built $out in $(( $(date +%s) - started )) s"
printf '%s\n' "$out"
