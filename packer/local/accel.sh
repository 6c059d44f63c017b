#!/usr/bin/env bash
# usage: accel.sh KERNEL    prints "kvm" or "tcg"
#
# /dev/kvm can exist and answer ioctls yet hang a guest (seen on Firecracker
# hosts: no console output after "Probing EDD"). So boot the given kernel under
# KVM with no root file system and an init that does not exist: a working KVM
# reaches the kernel's "No working init" panic within seconds and QEMU exits
# (-no-reboot, panic=-1). Anything else within the time limit means TCG.
# AIRLOCK_QEMU_ACCEL=kvm|tcg skips the probe.
set -euo pipefail
if [ -n "${AIRLOCK_QEMU_ACCEL:-}" ]; then printf '%s\n' "$AIRLOCK_QEMU_ACCEL"; exit 0; fi
kernel=$1
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then echo tcg; exit 0; fi
out=$(timeout 20 qemu-system-x86_64 -accel kvm -cpu host -m 256 -nographic -nic none -no-reboot \
  -kernel "$kernel" -append "console=ttyS0 panic=-1 rdinit=/airlock-kvm-probe init=/airlock-kvm-probe" 2>&1 || true)
if grep -q -e 'Kernel panic' -e 'No working init' <<<"$out"; then echo kvm; else echo tcg; fi
