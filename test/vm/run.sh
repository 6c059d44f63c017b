#!/usr/bin/env bash
# `npm run test:vm`: boots the image `npm run image` built (build/image/airlock-runner.qcow2)
# under QEMU with systemd as PID 1 and runs the issue's checks from inside the guest
# (test/vm/guest/checks.sh). Never boots the artifact itself: every boot is on a copy-on-write
# overlay. Three boots, one VM at a time:
#   A1  fresh overlay A, first boot: checks 1-5
#   A2  overlay A again (a reboot of the same disk): state and CA kept
#   B1  fresh overlay B: a CA of its own (fingerprint differs from A's), so none was baked in
# The guest has a user-mode NIC with restrict=on (DHCP only: no route off the guest, no port
# forwards) and a read-only payload disk with the checks and stand-ins. Results come back on the
# second serial port; the console goes to build/vm-test/console-*.log.
# Prints one line per check and a closing "N passed, N failed" line; exits 1 on any failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
img_dir=$repo/build/image
image=$img_dir/airlock-runner.qcow2
out=$repo/build/vm-test
readonly BOOT_TIMEOUT=${AIRLOCK_VM_BOOT_TIMEOUT:-1800}

log() { printf 'test:vm: %s\n' "$*" >&2; }
# cpu_seconds PID: user+system CPU seconds of a running process. Sampled while qemu runs (the last
# sample is at most one poll late): with the wall time it tells a slow guest from a host loaded
# by other jobs (these machines have 2 cores).
readonly TICKS=$(getconf CLK_TCK)
cpu_seconds() { awk -v hz="$TICKS" '{ sub(/^.*\) /, ""); printf "%d", ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null; }
cpu_total=0
die() { log "$*"; exit 2; }
[ -f "$image" ] || die "no $image: run npm run bundle && npm run image first"
[ -f "$repo/dist/test/fixtures/netns-issuer.js" ] || die "no dist/: run npm run build first"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (Debian: qemu-system-x86)"

started=$(date +%s)
rm -rf "$out"
mkdir -p "$out"
work=$(mktemp -d)
qemu_pid=
cleanup() {
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# The payload: the checks, the stand-in Datadog, and the repository's stand-in OIDC issuer
# (compiled fixtures; jose comes from the image's own /opt/airlock/node_modules).
payload=$work/payload
mkdir -p "$payload/fixtures"
cp "$here/guest/checks.sh" "$here/guest/stand-in-datadog.mjs" "$payload/"
cp "$repo/dist/test/fixtures/netns-issuer.js" "$repo/dist/test/fixtures/oidc-issuer.js" "$payload/fixtures/"
printf '{"type":"module"}\n' >"$payload/package.json"
ln -s /opt/airlock/node_modules "$payload/node_modules"
truncate -s 64M "$work/payload.img"
mkfs.ext4 -q -F -L airlock-vmtest -d "$payload" "$work/payload.img"

accel=$(bash "$repo/packer/local/accel.sh" "$img_dir/vmlinuz")
cpu=max
[ "$accel" = kvm ] && cpu=host
log "accelerator $accel"

# boot NAME OVERLAY PHASE: one VM, until the checks power it off (or the timeout).
# cloud-init=disabled: these boots have no cloud-init data source (no seed, no metadata service),
# so its four stages would only spend minutes of TCG time finding nothing; the image keeps
# cloud-init enabled for real first boots (Packer's build boot uses it for the build login).
# systemd.run= alone would boot into kernel-command-line.target instead of the default target
# (no multi-user.target, so no airlock.service). systemd.unit= keeps the normal boot target and
# systemd.wants= adds the checks' unit to that boot, next to everything else.
boot() {
  local name=$1 overlay=$2 phase=$3 t0 used=0 rc=0
  t0=$(date +%s)
  : >"$out/results-$name.log"
  nice -n 19 qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -m 2048 -smp 2 \
    -display none -no-reboot \
    -serial "file:$out/console-$name.log" -serial "file:$out/results-$name.log" \
    -nic user,model=virtio-net-pci,restrict=on \
    -drive "file=$overlay,format=qcow2,if=virtio" \
    -drive "file=$work/payload.img,format=raw,if=virtio,readonly=on" \
    -kernel "$img_dir/vmlinuz" -initrd "$img_dir/initrd.img" \
    -append "root=LABEL=airlock-root rw console=ttyS0 systemd.journald.forward_to_console=1 cloud-init=disabled systemd.unit=multi-user.target systemd.wants=kernel-command-line.service systemd.run=\"/bin/sh -c 'mount -o ro LABEL=airlock-vmtest /mnt && exec /bin/bash /mnt/checks.sh $phase'\" systemd.run_success_action=poweroff systemd.run_failure_action=poweroff" &
  qemu_pid=$!
  local waited=0
  while kill -0 "$qemu_pid" 2>/dev/null; do
    used=$(cpu_seconds "$qemu_pid" || echo "$used")
    if [ "$waited" -ge "$BOOT_TIMEOUT" ]; then
      kill "$qemu_pid" 2>/dev/null
      log "$name: no power-off within $BOOT_TIMEOUT s"
      rc=1
      break
    fi
    sleep 5
    waited=$((waited + 5))
  done
  wait "$qemu_pid" 2>/dev/null || true
  qemu_pid=
  cpu_total=$((cpu_total + ${used:-0}))
  log "$name ($phase): $(( $(date +%s) - t0 )) s wall, qemu ${used:-0} s CPU"
  grep -q "^info done $phase" "$out/results-$name.log" || { log "$name: the checks did not finish (see $out/console-$name.log)"; rc=1; }
  return "$rc"
}

qemu-img create -q -f qcow2 -F qcow2 -b "$image" "$work/a.qcow2"
qemu-img create -q -f qcow2 -F qcow2 -b "$image" "$work/b.qcow2"
# AIRLOCK_VM_PHASES picks boots (e.g. "A1" to rerun the first-boot checks alone); the default is all.
phases=" ${AIRLOCK_VM_PHASES:-A1 A2 B1} "
[[ $phases == *" A1 "* ]] && { boot A1 "$work/a.qcow2" first || true; }
[[ $phases == *" A2 "* ]] && { boot A2 "$work/a.qcow2" again || true; }
[[ $phases == *" B1 "* ]] && { boot B1 "$work/b.qcow2" other || true; }

# A boot left out by AIRLOCK_VM_PHASES has no results file: no fingerprint, not an error (set -e).
fp() { [ -f "$out/results-$1.log" ] || return 0; sed -n 's/^info ca-fingerprint //p' "$out/results-$1.log" | tr -d '\r' | head -n 1; }
{
  cat "$out/results-A1.log" "$out/results-A2.log" 2>/dev/null | tr -d '\r' | grep -E '^(ok|not ok|skip) ' || true
  a=$(fp A1) b=$(fp B1)
  if [[ $phases != *" A1 "* || $phases != *" B1 "* ]]; then
    :
  elif [ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ]; then
    echo "ok 2.6 two fresh overlays of the image made two different CAs on first boot (none baked in)"
  else
    echo "not ok 2.6 two fresh overlays of the image made two different CAs on first boot (none baked in) -- A: ${a:-none}, B: ${b:-none}"
  fi
} >"$out/lines.log"
# In check-id order ("not ok" carries the id one field later).
awk '{ id = ($1 == "not") ? $3 : $2; print id "\t" $0 }' "$out/lines.log" | sort -V -s -k1,1 | cut -f2- \
  | tee "$out/summary.log"
passed=$(grep -c '^ok ' "$out/summary.log" || true)
failed=$(grep -c '^not ok ' "$out/summary.log" || true)
skipped=$(grep -c '^skip ' "$out/summary.log" || true)
grep '^info boot-time' "$out"/results-*.log | sed 's#^.*/results-##; s#\.log:info boot-time# boot:#' >&2 || true
grep '^info boot-blame' "$out"/results-*.log | sed 's#^.*/results-##; s#\.log:info boot-blame# slowest units:#' >&2 || true
log "total $(( $(date +%s) - started )) s wall, qemu $cpu_total s CPU"
if [ "$skipped" -gt 0 ]; then echo "$skipped not run (the skip lines say why)"; fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
