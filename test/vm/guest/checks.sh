#!/bin/bash
# The issue's checks, run as root inside the booted runner image (systemd as PID 1) by
# test/vm/run.sh through the kernel command line (systemd.run=). Results go to the second serial
# port, one line each:
#   ok ID TEXT | not ok ID TEXT -- WHY | skip ID TEXT -- WHY | info KEY VALUE
# Phases: "first" (first boot of a fresh overlay: checks 1-5), "again" (the same disk booted
# once more: state and CA kept), "other" (a second fresh overlay: its CA fingerprint only).
# All traffic stays inside the guest: the stand-in Datadog listens on a dummy interface's
# addresses, the stand-in OIDC issuer on 127.0.0.1.
set -uo pipefail

phase=${1:?phase}
here=$(cd "$(dirname "$0")" && pwd)
exec 3>/dev/ttyS1
stty -F /dev/ttyS1 raw -echo 2>/dev/null || true
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export SYSTEMD_PAGER= SYSTEMD_COLORS=0

readonly STATE=/var/lib/airlock
readonly CONF=/etc/airlock/airlock.yaml
readonly DD_V4=198.51.100.10 DD_V6=2001:db8::10
readonly DD_HOST=api.datadoghq.com
readonly KEEP=/var/lib/airlock-vmtest   # what a later boot of the same disk compares with
work=$(mktemp -d)

ok() { printf 'ok %s %s\n' "$1" "$2" >&3; }
notok() { printf 'not ok %s %s -- %s\n' "$1" "$2" "$3" >&3; }
skip() { printf 'skip %s %s -- %s\n' "$1" "$2" "$3" >&3; }
info() { printf 'info %s %s\n' "$1" "$2" >&3; }
# check ID TEXT COMMAND...: ok when COMMAND succeeds; else not ok with its last output line.
# Runs in this shell (not a $(...) subshell), so the variables a step sets stay set.
check() {
  local id=$1 text=$2
  shift 2
  if "$@" >"$work/check.out" 2>&1; then ok "$id" "$text"; else notok "$id" "$text" "$(tail -n 1 "$work/check.out" | tr -d '\r')"; fi
}
show() { systemctl show -P "$2" "$1"; }
as_airlock() { runuser -u airlock -- airlock "$@" --config "$CONF" --state-dir "$STATE"; }
ca_fp() { openssl x509 -in "$STATE/ca/ca.crt" -noout -fingerprint -sha256 | cut -d= -f2; }

# wait_active UNIT SECONDS: active (not activating), or fail.
wait_active() {
  local i
  for ((i = 0; i < $2; i++)); do
    [ "$(show "$1" ActiveState)" = active ] && return 0
    sleep 1
  done
  echo "$1 is $(show "$1" ActiveState)/$(show "$1" SubState) after $2 s"
  return 1
}

# Boot is done for these checks when airlock.service has started (or given up). Not
# `is-system-running --wait` (this unit, kernel-command-line.service, is part of the boot) and
# not multi-user.target (cloud-init's stages can hold it for minutes under TCG).
wait_boot() {
  local i state
  for ((i = 0; i < 900; i++)); do
    state=$(show airlock.service ActiveState)
    [ "$state" = active ] || [ "$state" = failed ] && break
    sleep 1
  done
  info boot-time "airlock.service $state at $(( $(show airlock.service ActiveEnterTimestampMonotonic) / 1000000 )) s after kernel start, multi-user.target $(show multi-user.target ActiveState)"
  info failed-units "$(systemctl --failed --no-legend --plain | awk '{print $1}' | tr '\n' ' ')"
  info pending-jobs "$(systemctl list-jobs --no-legend --plain | awk '{print $2}' | tr '\n' ' ')"
  info airlock-restarts-during-boot "$(show airlock.service NRestarts)"
  info boot-blame "$(blame | head -n 12 | tr '\n' ' ')"
}
wait_ca() {
  local i
  for ((i = 0; i < 900; i++)); do
    [ -s "$STATE/ca/ca.crt" ] && ca_fp >/dev/null 2>&1 && break
    sleep 1
  done
  info boot-time "CA present at $(cut -d. -f1 /proc/uptime) s after kernel start"
}
# blame: the boot's slowest services, "unit=seconds", slowest first. Not `systemd-analyze blame`,
# which refuses while the boot is unfinished, and this unit is part of the boot.
blame() {
  # shellcheck disable=SC2046 # one word per unit name
  systemctl show -p Id -p InactiveExitTimestampMonotonic -p ActiveEnterTimestampMonotonic \
    $(systemctl list-units --type=service --all --plain --no-legend | awk '{print $1}') \
    | awk 'BEGIN { RS = ""; FS = "\n" } {
        id = ""; s = 0; e = 0
        for (i = 1; i <= NF; i++) {
          split($i, kv, "=")
          if (kv[1] == "Id") id = kv[2]
          else if (kv[1] == "InactiveExitTimestampMonotonic") s = kv[2]
          else if (kv[1] == "ActiveEnterTimestampMonotonic") e = kv[2]
        }
        if (s > 0 && e > s) printf "%.1f %s\n", (e - s) / 1e6, id
      }' \
    | sort -rn | awk '{ print $2 "=" $1 "s" }'
}

# --- check 1: egress table before the network, Type=notify, watchdog -------------------------
egress_before_network() {
  local e n d
  nft list table inet airlock >/dev/null || { echo "table inet airlock not loaded"; return 1; }
  e=$(show airlock-egress.service ActiveEnterTimestampMonotonic)
  n=$(show network-pre.target ActiveEnterTimestampMonotonic)
  d=$(show systemd-networkd.service ExecMainStartTimestampMonotonic)
  [ "$e" -gt 0 ] && [ "$e" -le "$n" ] && [ "$e" -lt "$d" ] \
    || { echo "egress active at ${e}us, network-pre at ${n}us, networkd started at ${d}us"; return 1; }
}
notify_ready() {
  [ "$(show airlock.service Type)" = notify ] || { echo "Type=$(show airlock.service Type)"; return 1; }
  [ "$(show airlock.service ActiveState)/$(show airlock.service SubState)" = active/running ] \
    || { echo "$(show airlock.service ActiveState)/$(show airlock.service SubState)"; return 1; }
  curl -sf --noproxy '*' http://127.0.0.1:3128/.airlock/v1/health >/dev/null || { echo "health endpoint does not answer"; return 1; }
}
watchdog_set() {
  local w
  w=$(show airlock.service WatchdogUSec)
  [ -n "$w" ] && [ "$w" != 0 ] && [ "$w" != infinity ] || { echo "WatchdogUSec=$w"; return 1; }
  echo "WatchdogUSec=$w"
}
# survives PID SINCE_EPOCH NRESTARTS: still the same main process and no new restart, two
# watchdog periods after SINCE.
survives() {
  local pid=$1 since=$2 restarts=$3 period left
  period=$(( $(show airlock.service WatchdogUSec | sed -E 's/^([0-9]+)s$/\1/;t;s/.*/30/') ))
  left=$(( since + 2 * period + 5 - $(date +%s) ))
  [ "$left" -gt 0 ] && sleep "$left"
  [ "$(show airlock.service MainPID)" = "$pid" ] && [ "$(show airlock.service NRestarts)" = "$restarts" ] \
    && [ "$(show airlock.service ActiveState)" = active ] \
    || { echo "MainPID $(show airlock.service MainPID) (was $pid), NRestarts $(show airlock.service NRestarts) (was $restarts), $(show airlock.service ActiveState)"; return 1; }
}
sigstop_restarts() {
  local pid i t0
  pid=$(show airlock.service MainPID)
  t0=$(date +%s)
  kill -STOP "$pid"
  # SIGABRT first, SIGKILL after TimeoutAbortSec (90 s), then a full start (about 2 min under TCG).
  for ((i = 0; i < 480; i++)); do
    local now
    now=$(show airlock.service MainPID)
    if [ "$now" != 0 ] && [ "$now" != "$pid" ] && [ "$(show airlock.service ActiveState)" = active ]; then
      journalctl -b -u airlock.service -o cat | grep -q 'Watchdog timeout' \
        || { echo "restarted, but not by the watchdog"; return 1; }
      info sigstop-restart-seconds "$(( $(date +%s) - t0 ))"
      return 0
    fi
    sleep 1
  done
  kill -CONT "$pid" 2>/dev/null
  echo "no restart within 480 s"
  return 1
}

# --- check 2: per-VM CA, trust --------------------------------------------------------------
ca_key_private() {
  local m
  m=$(stat -c '%a %U:%G' "$STATE/ca/ca.key") || return 1
  [ "$m" = "600 airlock:airlock" ] || { echo "ca.key is $m"; return 1; }
}
ca_made_this_boot() {
  local born boot
  born=$(stat -c %Y "$STATE/ca/ca.key")
  boot=$(( $(date +%s) - $(cut -d. -f1 /proc/uptime) ))
  [ "$born" -ge "$((boot - 5))" ] || { echo "ca.key is older than this boot"; return 1; }
}
system_trusts_ca() {
  [ "$(openssl x509 -in /usr/local/share/ca-certificates/airlock-ca.crt -noout -fingerprint -sha256 | cut -d= -f2)" = "$(ca_fp)" ] \
    || { echo "airlock-ca.crt is not this VM's CA"; return 1; }
  openssl verify -CAfile /etc/ssl/certs/ca-certificates.crt "$STATE/ca/ca.crt"
}
java_trusts_ca() {
  LC_ALL=C keytool -list -cacerts -storepass changeit -alias airlock-ca >"$work/keytool.out" 2>&1 \
    || { tail -n 1 "$work/keytool.out"; return 1; }
  grep -qF "(SHA-256): $(ca_fp)" "$work/keytool.out" || { echo "airlock-ca in cacerts is not this VM's CA"; return 1; }
}
# The runner's .env gets the proxy and CA variables (install.sh); /etc/environment gets the CA
# variables (install-trust.sh), not the proxy.
runner_env_has_ca() {
  local f
  for f in /opt/actions-runner/.env /etc/environment; do
    grep -qx 'NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/airlock-ca.crt' "$f" \
      && grep -qx 'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' "$f" \
      || { echo "$f lacks the CA variables"; return 1; }
  done
  grep -qx 'https_proxy=http://127.0.0.1:3128' /opt/actions-runner/.env || { echo ".env lacks https_proxy"; return 1; }
  runuser -u runner -- openssl x509 -in /usr/local/share/ca-certificates/airlock-ca.crt -noout
}

# --- stand-ins: Datadog on non-loopback guest addresses, an OIDC issuer, a vault seed --------
standins() {
  local dev=dd0
  # A dummy interface when the kernel has the module, else lo: either way an address that is
  # not loopback, so the egress table's rules apply as they would to the real Datadog.
  if ! { ip link add dd0 type dummy && ip link set dd0 up; } 2>/dev/null; then dev=lo; fi
  ip addr add "$DD_V4/32" dev "$dev" && ip -6 addr add "$DD_V6/128" dev "$dev" nodad || return 1
  info standin-interface "$dev"
  printf '%s %s\n%s %s\n' "$DD_V4" "$DD_HOST" "$DD_V6" "$DD_HOST" >>/etc/hosts
  mkdir -p /etc/airlock/standin
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=stand-in Datadog CA' \
    -keyout "$work/ca.key" -out /etc/airlock/standin/ca.pem 2>/dev/null || return 1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$DD_HOST" -keyout "$work/dd.key" -out "$work/dd.csr" 2>/dev/null || return 1
  printf 'subjectAltName=DNS:%s,IP:%s,IP:%s\n' "$DD_HOST" "$DD_V4" "$DD_V6" >"$work/ext"
  openssl x509 -req -in "$work/dd.csr" -CA /etc/airlock/standin/ca.pem -CAkey "$work/ca.key" -CAcreateserial \
    -days 2 -extfile "$work/ext" -out "$work/dd.crt" 2>/dev/null || return 1
  chmod 0644 /etc/airlock/standin/ca.pem
  : >"$work/received"
  /opt/airlock/node/bin/node "$here/stand-in-datadog.mjs" "$work/dd.crt" "$work/dd.key" "$work/received" "$DD_V4" "$DD_V6" \
    >"$work/dd.out" 2>&1 &
  /opt/airlock/node/bin/node "$here/fixtures/netns-issuer.js" runner >"$work/issuer.out" 2>&1 &
  local i
  for ((i = 0; i < 120; i++)); do
    grep -q listening "$work/dd.out" && grep -q '"kind":"listening"' "$work/issuer.out" && break
    sleep 1
  done
  grep -q listening "$work/dd.out" || { echo "stand-in Datadog: $(tail -n1 "$work/dd.out")"; return 1; }
  grep -q '"kind":"listening"' "$work/issuer.out" || { echo "issuer: $(tail -n1 "$work/issuer.out")"; return 1; }
  issuer_url=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$work/issuer.out")
  jwks_uri=$(sed -n 's/.*"jwksUri":"\([^"]*\)".*/\1/p' "$work/issuer.out")
  token=$(sed -n 's/.*"runner":"\([^"]*\)".*/\1/p' "$work/issuer.out")
  vaulted_key="vaulted-$(openssl rand -hex 12)"
  # The seed comes in through LoadCredential= (root-only directory, copied for the unit).
  printf '{"dd-prod": {"apiKey": "%s"}}\n' "$vaulted_key" >/etc/airlock/credentials/vault-seed
  chmod 0600 /etc/airlock/credentials/vault-seed
  # The image's own config (listeners, passthrough, control socket, approvals group) with the
  # stand-ins' upstream pin, issuer, grant and a policy that holds dashboard deletions.
  # identity: is the image config's last key.
  sed '/^identity:/,$d' "$CONF" >"$work/airlock.yaml"
  cat "$work/airlock.yaml" >"$CONF"
  cat >>"$CONF" <<YAML
upstream:
  resolve: {"$DD_HOST": "$DD_V4:443"}
  caFile: /etc/airlock/standin/ca.pem
identity:
  issuers:
    - {name: vmtest, issuer: "$issuer_url", audience: airlock, jwksUri: "$jwks_uri"}
  grants:
    - {name: vmtest-main, issuer: vmtest, claims: {repository_id: "123456", ref: refs/heads/main}, credential: dd-prod, policy: vmtest}
policies:
  vmtest:
    default: allow
    rules:
      - {match: "DELETE /api/v1/dashboard/*", action: approve}
YAML
  systemctl restart airlock.service && wait_active airlock.service 300
}

# --- check 3: the runner user's egress --------------------------------------------------------
received_count() { wc -l <"$work/received"; }
# direct_refused FAMILY-FLAG ADDR: as the runner, no proxy, straight at the stand-in.
direct_refused() {
  local before code
  before=$(received_count)
  code=$(runuser -u runner -- curl "$1" -s -o /dev/null -w '%{http_code}' --noproxy '*' --max-time 30 \
    --cacert /etc/airlock/standin/ca.pem --resolve "$DD_HOST:443:$2" -H 'DD-API-KEY: agent-supplied-key' \
    "https://$DD_HOST/api/v1/validate")
  [ "$(received_count)" = "$before" ] || { echo "the stand-in received the runner's direct request"; return 1; }
  case "$code" in 2*) echo "direct request answered $code"; return 1 ;; esac
  echo "refused (HTTP code $code)"
}
other_user_direct() {
  local before code
  before=$(received_count)
  code=$(runuser -u vmother -- curl -s -o /dev/null -w '%{http_code}' --noproxy '*' --max-time 30 \
    --cacert /etc/airlock/standin/ca.pem --resolve "$DD_HOST:443:$1" "https://$DD_HOST/api/v1/validate")
  [ "$code" = 200 ] && [ "$(received_count)" -gt "$before" ] || { echo "got $code"; return 1; }
}
through_proxy() {
  local code
  local login=/home/runner/vmtest/login.sh
  install -d -m 0700 -o runner -g runner /home/runner/vmtest
  runuser -u runner -- env -i HOME=/home/runner PATH="$PATH" AIRLOCK_ID_TOKEN="$token" \
    sh -c "umask 077; airlock login --proxy http://127.0.0.1:3128 --token-env AIRLOCK_ID_TOKEN --format sh >$login" \
    2>"$work/login.err" || { echo "login: $(tail -n1 "$work/login.err")"; return 1; }
  : >"$work/received"
  code=$(runuser -u runner -- env -i HOME=/home/runner PATH="$PATH" bash -c ". '$login'
    curl -s -o /dev/null -w '%{http_code}' --max-time 60 -H 'DD-API-KEY: agent-supplied-key' https://$DD_HOST/api/v1/validate")
  [ "$code" = 200 ] || { echo "through the proxy: HTTP $code"; return 1; }
}
standin_saw_only_vaulted() {
  [ "$(received_count)" -ge 1 ] || { echo "nothing reached the stand-in"; return 1; }
  if grep -v -F "\"apiKey\":\"$vaulted_key\"" "$work/received" | grep -q .; then
    echo "the stand-in saw another key"
    return 1
  fi
  if grep -q 'agent-supplied-key\|alk_' "$work/received"; then echo "agent key or session token reached the stand-in"; return 1; fi
  return 0
}
session_recorded() {
  as_airlock sessions grep --path /api/v1/validate --json >"$work/grep.out" || { echo "no recorded exchange"; return 1; }
  session_id=$(sed -n 's/.*"session":"\([^"]*\)".*/\1/p' "$work/grep.out" | head -n 1)
  [ -n "$session_id" ] || { echo "no session id in: $(head -c 200 "$work/grep.out")"; return 1; }
  if grep -q "$vaulted_key" "$STATE/sessions/$session_id.jsonl"; then echo "the vaulted key is in the journal"; return 1; fi
  return 0
}

# --- approvals: the control socket for the approvers group ------------------------------------
# held_then_approved: the runner's DELETE is held; a member of airlock-approvers lists and
# approves it; then it reaches the stand-in.
held_then_approved() {
  local login=/home/runner/vmtest/login.sh id i
  getent group airlock-approvers >/dev/null || { echo "no airlock-approvers group in the image"; return 1; }
  useradd -m -s /bin/bash -G airlock-approvers vmapprover 2>/dev/null
  : >"$work/received"
  runuser -u runner -- env -i HOME=/home/runner PATH="$PATH" bash -c ". '$login'
    curl -s -o /dev/null -w '%{http_code}' --max-time 600 -X DELETE https://$DD_HOST/api/v1/dashboard/vm-test" \
    >"$work/held.code" 2>&1 &
  local curl_pid=$!
  for ((i = 0; i < 120; i++)); do
    runuser -u vmapprover -- env -i HOME=/home/vmapprover PATH="$PATH" AIRLOCK_CONTROL_SOCKET=/run/airlock/control.sock \
      airlock approvals ls --json >"$work/holds.json" 2>"$work/holds.err" || { echo "approver: $(tail -n1 "$work/holds.err")"; kill "$curl_pid"; return 1; }
    id=$(grep -o '"id": *"[^"]*"' "$work/holds.json" | head -n 1 | sed 's/.*"\([^"]*\)"$/\1/')
    [ -n "$id" ] && break
    sleep 2
  done
  [ -n "$id" ] || { echo "no held request listed"; kill "$curl_pid"; return 1; }
  [ "$(received_count)" = 0 ] || { echo "the held request reached the stand-in before approval"; return 1; }
  runuser -u vmapprover -- env -i HOME=/home/vmapprover PATH="$PATH" AIRLOCK_CONTROL_SOCKET=/run/airlock/control.sock \
    airlock approvals approve "$id" --note vm-test || { kill "$curl_pid"; return 1; }
  wait "$curl_pid"
  [ "$(cat "$work/held.code")" = 200 ] || { echo "held DELETE answered $(cat "$work/held.code")"; return 1; }
  grep -q '"method":"DELETE"' "$work/received" || { echo "the approved DELETE did not reach the stand-in"; return 1; }
}
outsider_refused() {
  local err
  if runuser -u vmother -- env -i HOME=/home/vmother PATH="$PATH" AIRLOCK_CONTROL_SOCKET=/run/airlock/control.sock \
    airlock approvals ls >"$work/outsider.out" 2>&1; then
    echo "a user outside airlock-approvers could list holds"
    return 1
  fi
  err=$(tail -n1 "$work/outsider.out")
  grep -q 'APPROVAL_FORBIDDEN\|EACCES\|permission' "$work/outsider.out" || { echo "refused, but not for lack of permission: $err"; return 1; }
}

# --- check 4 -----------------------------------------------------------------------------------
# runner_validate: the runner's GET /api/v1/validate through the proxy; prints the HTTP code and
# keeps the response headers in /home/runner/vmtest/validate.headers.
runner_validate() {
  runuser -u runner -- env -i HOME=/home/runner PATH="$PATH" bash -c ". /home/runner/vmtest/login.sh
    curl -s -D /home/runner/vmtest/validate.headers -o /dev/null -w '%{http_code}' --max-time 60 https://$DD_HOST/api/v1/validate"
}
# reload_and_wait: systemctl reload (ExecReload sends SIGHUP and returns at once), then wait for
# the daemon to log that the policies changed.
reload_and_wait() {
  local before i
  before=$(journalctl -b -u airlock.service -o cat | grep -c 'config reloaded: policies changed')
  systemctl reload airlock.service || { echo "systemctl reload failed"; return 1; }
  for ((i = 0; i < 120; i++)); do
    [ "$(journalctl -b -u airlock.service -o cat | grep -c 'config reloaded: policies changed')" -gt "$before" ] && return 0
    if journalctl -b -u airlock.service -o cat | grep -q 'config reload refused'; then
      echo "reload refused: $(journalctl -b -u airlock.service -o cat | grep 'config reload refused' | tail -n 1)"
      return 1
    fi
    sleep 1
  done
  echo "no 'config reloaded: policies changed' in the journal 120 s after systemctl reload"
  return 1
}
# reload_applies: a rule denying the request 3.3 made is added and reloaded: the same request is
# now refused with POLICY_DENIED and never reaches the stand-in; the rule is removed and reloaded:
# it passes again. Same main PID and no restart throughout (a reload, not a restart).
reload_applies() {
  local pid restarts code
  pid=$(show airlock.service MainPID)
  restarts=$(show airlock.service NRestarts)
  cp "$CONF" "$work/airlock.yaml.before"
  # The vmtest policy's rules list is the config's last block (standins wrote it).
  printf '      - {match: "GET /api/v1/validate", action: deny}\n' >>"$CONF"
  reload_and_wait || return 1
  : >"$work/received"
  code=$(runner_validate)
  [ "$code" = 403 ] && grep -qi '^x-airlock-error: POLICY_DENIED' /home/runner/vmtest/validate.headers \
    || { echo "after the deny rule: HTTP $code, $(grep -i '^x-airlock-error' /home/runner/vmtest/validate.headers | tr -d '\r')"; return 1; }
  [ "$(received_count)" = 0 ] || { echo "the denied request reached the stand-in"; return 1; }
  cat "$work/airlock.yaml.before" >"$CONF"
  reload_and_wait || return 1
  code=$(runner_validate)
  [ "$code" = 200 ] && [ "$(received_count)" -ge 1 ] || { echo "after removing the deny rule: HTTP $code"; return 1; }
  [ "$(show airlock.service MainPID)" = "$pid" ] && [ "$(show airlock.service NRestarts)" = "$restarts" ] \
    || { echo "MainPID $(show airlock.service MainPID) (was $pid), NRestarts $(show airlock.service NRestarts) (was $restarts)"; return 1; }
}
seed_imported() {
  as_airlock vault ls >"$work/vault.out" 2>&1 || { tail -n1 "$work/vault.out"; return 1; }
  grep -q dd-prod "$work/vault.out" || { echo "dd-prod not in the vault"; return 1; }
  journalctl -b -u airlock.service -o cat | grep -q 'vault entries added from the seed credential' \
    || { echo "no import logged"; return 1; }
}
stop_finalizes() {
  systemctl stop airlock.service || return 1
  [ -f "$STATE/sessions/$session_id.har" ] && [ -f "$STATE/sessions/$session_id.har.sig" ] \
    || { echo "no HAR/sig for $session_id after stop"; return 1; }
  as_airlock sessions verify "$STATE/sessions/$session_id.har" || return 1
  systemctl start airlock.service && wait_active airlock.service 300
}

# --- check 5 -----------------------------------------------------------------------------------
security_score() {
  local line score
  line=$(systemd-analyze security airlock.service 2>/dev/null | grep 'Overall exposure level')
  score=$(sed -E 's/.*: ([0-9.]+) .*/\1/' <<<"$line")
  echo "exposure $score"
  awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.0) }'
}
sandboxed() {
  local pid
  pid=$(show airlock.service MainPID)
  grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$pid/status" || { echo "NoNewPrivs off"; return 1; }
  grep -q '^Seccomp:[[:space:]]*2' "/proc/$pid/status" || { echo "no seccomp filter"; return 1; }
  grep -q '^CapEff:[[:space:]]*0000000000000000' "/proc/$pid/status" || { echo "has capabilities"; return 1; }
  # In the daemon's own mount namespace, as its user: the state dir is writable, nothing else.
  local in_ns=(nsenter -t "$pid" -m -- setpriv --reuid=airlock --regid=airlock --clear-groups --)
  "${in_ns[@]}" sh -c "touch $STATE/.vmtest-probe && rm $STATE/.vmtest-probe" || { echo "cannot write its state dir"; return 1; }
  local p
  for p in /etc/airlock /opt/airlock /usr/local/bin /var/tmp/.. /root; do
    if "${in_ns[@]}" sh -c "touch $p/.vmtest-probe" 2>/dev/null; then
      rm -f "$p/.vmtest-probe"
      echo "could write $p"
      return 1
    fi
  done
  if "${in_ns[@]}" ls /home/runner >/dev/null 2>&1; then echo "can read /home/runner"; return 1; fi
  return 0
}

case "$phase" in
  first)
    wait_boot
    check 1.1 "airlock-egress.service loaded table inet airlock before network-pre.target and systemd-networkd" egress_before_network
    check 1.2 "airlock.service (Type=notify) is active/running after readiness and answers /.airlock/v1/health" notify_ready
    check 1.3 "systemctl show -p WatchdogUSec is set" watchdog_set
    check 2.1 "the CA key is 0600 airlock:airlock" ca_key_private
    check 2.2 "the CA was generated on this (first) boot" ca_made_this_boot
    check 2.3 "the system trust store holds this VM's CA (openssl verify against the system bundle)" system_trusts_ca
    if command -v keytool >/dev/null; then
      check 2.4 "Java cacerts holds this VM's CA (keytool, alias airlock-ca)" java_trusts_ca
    else
      skip 2.4 "Java cacerts holds the CA" "no JDK in the image"
    fi
    check 2.5 "the runner's .env (proxy and CA variables) and /etc/environment (CA variables) are set; the runner can read the CA" runner_env_has_ca
    info ca-fingerprint "$(ca_fp)"
    mkdir -p "$KEEP" && ca_fp >"$KEEP/ca-fingerprint"
    useradd -m -s /bin/bash vmother 2>/dev/null
    if standins >"$work/standins.out" 2>&1; then
      info standins "stand-in Datadog on $DD_V4 and [$DD_V6]:443, issuer on loopback, config and seed written, airlock restarted"
      pid=$(show airlock.service MainPID); since=$(date +%s); restarts=$(show airlock.service NRestarts)
      check 4.1 "a vault seed handed in with LoadCredential= is imported" seed_imported
      check 3.1 "as the runner, direct HTTPS to the stand-in's IPv4 address is refused" direct_refused -4 "$DD_V4"
      check 3.2 "as the runner, direct HTTPS to the stand-in's IPv6 address is refused" direct_refused -6 "$DD_V6"
      check 3.3 "through the proxy after airlock login (stand-in OIDC issuer) the same request succeeds" through_proxy
      check 3.4 "the stand-in saw only the vaulted key" standin_saw_only_vaulted
      check 3.5 "the exchange is recorded in a session" session_recorded
      check 3.6 "a second user (not the runner) goes out directly, IPv4, as the README says" other_user_direct "$DD_V4"
      check 3.7 "a second user (not the runner) goes out directly, IPv6, as the README says" other_user_direct "$DD_V6"
      check 6.1 "a member of airlock-approvers lists and approves the runner's held request, which then reaches the stand-in" held_then_approved
      check 6.2 "a user outside airlock-approvers cannot use the control socket" outsider_refused
      check 1.4 "airlock.service survives two watchdog periods (same PID, no restart)" survives "$pid" "$since" "$restarts"
      check 4.2 "systemctl reload airlock applies a policy change (deny, then allow again) with the same PID" reload_applies
      check 4.3 "systemctl stop airlock finalizes the open session into a HAR that verifies" stop_finalizes
      echo "${session_id:-}" >"$KEEP/session-id"
      check 5.1 "systemd-analyze security airlock.service is 2.0 or less" security_score
      check 5.2 "the daemon runs with no capabilities, NoNewPrivs and seccomp, and writes only its state dir" sandboxed
      check 1.5 "a SIGSTOPped daemon is restarted by the watchdog" sigstop_restarts
    else
      notok 3.0 "stand-ins for Datadog and the OIDC issuer start" "$(tail -n1 "$work/standins.out")"
    fi
    ;;
  again)
    wait_boot
    check 4.4 "after a reboot the CA is the same" test "$(ca_fp)" = "$(cat "$KEEP/ca-fingerprint")"
    sid=$(cat "$KEEP/session-id" 2>/dev/null)
    check 4.5 "after a reboot the recorded session and the vault entry are still there and the HAR verifies" \
      sh -c "[ -n '$sid' ] && runuser -u airlock -- airlock sessions verify $STATE/sessions/$sid.har --config $CONF --state-dir $STATE >/dev/null && runuser -u airlock -- airlock vault ls --config $CONF --state-dir $STATE | grep -q dd-prod"
    info ca-fingerprint "$(ca_fp)"
    ;;
  other)
    # This boot is only for 2.6 (its own CA): airlock.service's first ExecStartPre makes it, so
    # the rest of the start (the trust install, serve) is not waited for.
    wait_ca
    info ca-fingerprint "$(ca_fp)"
    ;;
esac
info done "$phase"
rm -rf "$work"
exec 3>&-
