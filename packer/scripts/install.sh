#!/usr/bin/env bash
# Installs the Airlock appliance into a runner image.
#
# usage: install.sh [--sysroot DIR] (--bundle TARBALL | --from DIR)
#                   [--runner-user NAME] [--runner-dir DIR] [--gitlab]
#
#   --sysroot DIR       install into the tree at DIR (default /: the running
#                       image). With a sysroot other than / nothing is installed
#                       from the network: the target must already provide
#                       node >= 20.19, nftables, openssl and ca-certificates.
#   --bundle TARBALL    the built Airlock: a .tar.gz holding package.json,
#                       dist/ and node_modules/ (production deps) at its top
#                       level or under one top-level directory, and optionally
#                       node/bin/node (npm run bundle): then that runtime runs
#                       Airlock and no package is fetched if the system tools
#                       are present.
#   --from DIR          the same, from an unpacked directory.
#   --runner-user NAME  the CI job's user, locked out of direct web egress
#                       (default runner). Created as a system user if missing.
#   --runner-dir DIR    the actions/runner directory; its .env gets the proxy,
#                       CA and hook variables. Without it only the reference
#                       copy /opt/airlock/share/github-runner.env is written.
#   --gitlab            also install the gitlab-runner drop-in and the
#                       config.toml snippet.
#
# Never puts a CA key or certificate into the image: airlock.service creates a
# CA per VM on its first start. Re-running is safe; an existing
# /etc/airlock/airlock.yaml is kept.
set -euo pipefail

readonly NODE_MAJOR=${NODE_MAJOR:-20}
readonly PROXY_URL=${AIRLOCK_PROXY_URL:-http://127.0.0.1:3128}
readonly NO_PROXY_LIST=${AIRLOCK_NO_PROXY:-localhost,127.0.0.1,::1}
readonly APP_DIR=/opt/airlock

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)

sysroot=/
bundle=
from=
runner_user=runner
runner_dir=
gitlab=0

log() { printf 'install.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
usage() { sed -n '4,5p' "$0" | sed 's/^# //' >&2; exit 2; }

while [ "$#" -gt 0 ]; do
  case "$1" in
    --sysroot) [ "$#" -ge 2 ] || usage; sysroot=$2; shift 2 ;;
    --bundle) [ "$#" -ge 2 ] || usage; bundle=$2; shift 2 ;;
    --from) [ "$#" -ge 2 ] || usage; from=$2; shift 2 ;;
    --runner-user) [ "$#" -ge 2 ] || usage; runner_user=$2; shift 2 ;;
    --runner-dir) [ "$#" -ge 2 ] || usage; runner_dir=$2; shift 2 ;;
    --gitlab) gitlab=1; shift ;;
    -h|--help) usage ;;
    *) log "unknown argument: $1"; usage ;;
  esac
done
if [ -n "$bundle" ] && [ -n "$from" ]; then die "give --bundle or --from, not both"; fi
if [ -z "$bundle" ] && [ -z "$from" ]; then die "give --bundle TARBALL or --from DIR"; fi
case "$runner_user" in
  *[!a-z0-9_-]*|'') die "--runner-user must match [a-z0-9_-]+: $runner_user" ;;
esac
[ "$(id -u)" = 0 ] || die "must run as root (file owners are part of the result)"

sysroot=$(realpath -m -- "$sysroot")
mkdir -p "$sysroot"
sysroot=${sysroot%/}
live=0
[ -z "$sysroot" ] && live=1
root() { printf '%s%s' "$sysroot" "$1"; }

for f in systemd/airlock.service systemd/airlock-egress.service systemd/airlock-egress.nft \
  systemd/airlock.sysusers systemd/airlock.tmpfiles certs/install-trust.sh packer/files/airlock.yaml \
  packer/files/hooks/job-started.sh packer/files/hooks/job-completed.sh; do
  [ -f "$src/$f" ] || die "missing $src/$f (run from a checkout or the uploaded source tree)"
done

# set_var FILE KEY VALUE: one literal KEY=VALUE line (the runner's .env takes
# no quotes), replacing an earlier KEY= line; rewritten in place so the file
# keeps its owner and mode.
set_var() {
  local file=$1 key=$2 value=$3 tmp
  tmp=$(mktemp)
  awk -v key="$key" -v line="${key}=${value}" '
    index($0, key "=") == 1 { if (!done) { print line; done = 1 }; next }
    { print }
    END { if (!done) print line }
  ' "$file" >"$tmp"
  cat "$tmp" >"$file"
  rm -f "$tmp"
}

# uid_of NAME / gid_of NAME: from the sysroot's own databases, never the host's.
uid_of() { awk -F: -v n="$1" '$1 == n { print $3; exit }' "$(root /etc/passwd)"; }
gid_of() { awk -F: -v n="$1" '$1 == n { print $4; exit }' "$(root /etc/passwd)"; }
# members_of GROUP: its member list from the sysroot's /etc/group.
members_of() { awk -F: -v n="$1" '$1 == n { print $4; exit }' "$(root /etc/group)"; }

# bundled_node: the bundle carries node/bin/node (npm run bundle does).
bundled_node() {
  if [ -n "$bundle" ]; then
    # grep -c reads the whole listing: with -q, tar's SIGPIPE would fail the pipe.
    [ "$(tar -tzf "$bundle" | grep -cE '^(\./)?([^/]+/)?node/bin/node$' || true)" -gt 0 ]
  else
    [ -x "$from/node/bin/node" ]
  fi
}

install_packages() {
  if [ "$live" = 0 ]; then
    log "sysroot mode: not installing packages (nodejs ${NODE_MAJOR}.x, nftables, openssl, ca-certificates); the target must provide them"
    return 0
  fi
  # A bundle with its own runtime (npm run bundle) on a base that already has
  # the system tools installs offline: nothing to fetch.
  if bundled_node && command -v nft >/dev/null && command -v openssl >/dev/null \
    && command -v update-ca-certificates >/dev/null; then
    log "bundled node, nftables, openssl and ca-certificates present: no packages to install"
    return 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends ca-certificates curl gnupg nftables openssl
  bundled_node && return 0
  local have
  have=$(node --version 2>/dev/null | sed -E 's/^v([0-9]+)\..*/\1/' || true)
  if [ -n "$have" ] && [ "$have" -ge "$NODE_MAJOR" ]; then
    log "node $(node --version) already present"
    return 0
  fi
  # Ubuntu 24.04 ships Node 18; Airlock needs >= 20.19, so use NodeSource's
  # signed repository rather than piping a setup script into a shell.
  install -d -m 0755 /etc/apt/keyrings
  curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key \
    | gpg --dearmor --yes -o /etc/apt/keyrings/nodesource.gpg
  printf 'deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_%s.x nodistro main\n' \
    "$NODE_MAJOR" >/etc/apt/sources.list.d/nodesource.list
  apt-get update -q
  apt-get install -y -q nodejs
}

install_app() {
  local stage top
  stage=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now: the path is fixed
  trap "rm -rf '$stage'" EXIT
  if [ -n "$bundle" ]; then
    tar -xzf "$bundle" -C "$stage" --no-same-owner
  else
    cp -a "$from/." "$stage/"
  fi
  top=$stage
  if [ ! -f "$top/package.json" ]; then
    # npm-pack style: everything under one top-level directory.
    top=$(find "$stage" -mindepth 2 -maxdepth 2 -name package.json -printf '%h\n' | head -n 1)
    [ -n "$top" ] || die "no package.json in the bundle"
  fi
  [ -f "$top/dist/appliance/cli.js" ] || die "bundle has no dist/appliance/cli.js (did the build run?)"
  # A developer's state directory in the bundle would ship a CA key to every VM.
  if [ -n "$(find "$top" \( -name ca.key -o -name ca.crt -o -name .airlock \) -print -quit)" ]; then
    die "bundle contains ca.key/ca.crt/.airlock: refusing to put CA material into the image"
  fi

  local app
  app=$(root "$APP_DIR")
  install -d -m 0755 -o 0 -g 0 "$app"
  rm -rf "$app/dist" "$app/node_modules" "$app/package.json" "$app/node"
  cp -a "$top/package.json" "$top/dist" "$app/"
  if [ -d "$top/node_modules" ]; then cp -a "$top/node_modules" "$app/"; fi
  if [ -x "$top/node/bin/node" ]; then cp -a "$top/node" "$app/"; fi
  # Root-owned and not writable by anyone else: the runner user must not be
  # able to change the code that holds the keys.
  chown -R 0:0 "$app/package.json" "$app/dist"
  [ -d "$app/node_modules" ] && chown -R 0:0 "$app/node_modules"
  [ -d "$app/node" ] && chown -R 0:0 "$app/node"
  chmod -R go-w "$app"
  chmod 0755 "$app/dist/appliance/cli.js"
  install -d -m 0755 "$(root /usr/local/bin)"
  rm -f "$(root /usr/local/bin/airlock)"
  if [ -d "$app/node" ]; then
    # The bundled runtime, not whatever `node` PATH finds (runner images
    # carry their own Node for jobs, of any version).
    printf '#!/bin/sh\nexec %s/node/bin/node %s/dist/appliance/cli.js "$@"\n' "$APP_DIR" "$APP_DIR" \
      >"$(root /usr/local/bin/airlock)"
    chmod 0755 "$(root /usr/local/bin/airlock)"
  else
    ln -sfn "$APP_DIR/dist/appliance/cli.js" "$(root /usr/local/bin/airlock)"
  fi
  rm -rf "$stage"
  trap - EXIT
}

install_users() {
  local sysusers_d
  sysusers_d=$(root /usr/lib/sysusers.d)
  install -d -m 0755 "$sysusers_d"
  install -m 0644 "$src/systemd/airlock.sysusers" "$sysusers_d/airlock.conf"
  if [ -z "$(uid_of "$runner_user" 2>/dev/null || true)" ]; then
    # The egress table resolves the runner's name when it loads, early in
    # boot: a user that only appears later would leave the box open.
    printf 'u %s - "CI runner" /home/%s /bin/bash\n' "$runner_user" "$runner_user" \
      >"$sysusers_d/airlock-runner.conf"
    chmod 0644 "$sysusers_d/airlock-runner.conf"
  fi
  install -d -m 0755 "$(root /etc)"
  systemd-sysusers --root "${sysroot:-/}"
  [ -n "$(uid_of airlock)" ] || die "systemd-sysusers did not create the airlock user"
  case ",$(members_of airlock-approvers)," in
    *,airlock,*) ;;
    *) die "systemd-sysusers did not make airlock a member of the airlock-approvers group" ;;
  esac
  [ -n "$(uid_of "$runner_user")" ] || die "runner user $runner_user does not exist"
  if [ -f "$sysusers_d/airlock-runner.conf" ]; then
    local home
    home=$(root "/home/$runner_user")
    if [ ! -d "$home" ]; then
      install -d -m 0750 -o "$(uid_of "$runner_user")" -g "$(gid_of "$runner_user")" "$home"
    fi
  fi
}

install_config() {
  local uid gid etc
  uid=$(uid_of airlock)
  gid=$(gid_of airlock)
  etc=$(root /etc/airlock)
  install -d -m 0755 -o 0 -g 0 "$etc"
  # Root-only: systemd hands these files to the unit as credentials; the
  # airlock user itself cannot read the directory.
  install -d -m 0700 -o 0 -g 0 "$etc/credentials"
  if [ ! -e "$etc/airlock.yaml" ]; then
    install -m 0640 -o 0 -g "$gid" "$src/packer/files/airlock.yaml" "$etc/airlock.yaml"
  else
    chown "0:$gid" "$etc/airlock.yaml"
    chmod 0640 "$etc/airlock.yaml"
    log "kept existing /etc/airlock/airlock.yaml"
  fi
  sed -e "s/^define RUNNER_USER = .*/define RUNNER_USER = \"$runner_user\"/" \
    -e 's/^define AIRLOCK_USER = .*/define AIRLOCK_USER = "airlock"/' \
    "$src/systemd/airlock-egress.nft" >"$etc/airlock-egress.nft.tmp"
  chmod 0644 "$etc/airlock-egress.nft.tmp"
  mv -f "$etc/airlock-egress.nft.tmp" "$etc/airlock-egress.nft"
  if [ "$live" = 1 ]; then
    nft -c -f "$etc/airlock-egress.nft" || die "nft rejects $etc/airlock-egress.nft"
  fi
  # Approvers cannot read airlock.yaml (0640): this tells their CLI where the
  # control socket is (/run/airlock from airlock.tmpfiles, control.socket).
  local environment
  environment=$(root /etc/environment)
  [ -e "$environment" ] || install -m 0644 /dev/null "$environment"
  set_var "$environment" AIRLOCK_CONTROL_SOCKET /run/airlock/control.sock
  # systemd would create these too (StateDirectory=, LogsDirectory=); making
  # them here lets the image be checked and keeps the modes explicit.
  install -d -m 0700 -o "$uid" -g "$gid" "$(root /var/lib/airlock)"
  install -d -m 0700 -o "$uid" -g "$gid" "$(root /var/log/airlock)"
  install -d -m 0755 "$(root /usr/local/libexec/airlock)"
  install -m 0755 "$src/certs/install-trust.sh" "$(root /usr/local/libexec/airlock/install-trust.sh)"
}

install_units() {
  local unitdir
  unitdir=$(root /etc/systemd/system)
  install -d -m 0755 "$unitdir"
  install -m 0644 "$src/systemd/airlock.service" "$unitdir/airlock.service"
  install -m 0644 "$src/systemd/airlock-egress.service" "$unitdir/airlock-egress.service"
  # /run/airlock for the control socket, made at every boot (see airlock.tmpfiles).
  local tmpfiles_d
  tmpfiles_d=$(root /usr/lib/tmpfiles.d)
  install -d -m 0755 "$tmpfiles_d"
  install -m 0644 "$src/systemd/airlock.tmpfiles" "$tmpfiles_d/airlock.conf"
  if [ "$live" = 1 ] && [ -d /run/systemd/system ]; then
    systemd-tmpfiles --create "$tmpfiles_d/airlock.conf"
  fi
  # --root works on the tree without a running systemd (image builds, CI).
  systemctl --root="${sysroot:-/}" enable airlock-egress.service airlock.service
}

runner_env_lines() {
  printf '%s\n' \
    "https_proxy=$PROXY_URL" "HTTPS_PROXY=$PROXY_URL" \
    "no_proxy=$NO_PROXY_LIST" "NO_PROXY=$NO_PROXY_LIST" \
    "ACTIONS_RUNNER_HOOK_JOB_STARTED=$APP_DIR/hooks/job-started.sh" \
    "ACTIONS_RUNNER_HOOK_JOB_COMPLETED=$APP_DIR/hooks/job-completed.sh"
}

install_runner_integration() {
  local hooks share line
  hooks=$(root "$APP_DIR/hooks")
  share=$(root "$APP_DIR/share")
  install -d -m 0755 "$hooks" "$share"
  install -m 0755 "$src/packer/files/hooks/job-started.sh" "$hooks/job-started.sh"
  install -m 0755 "$src/packer/files/hooks/job-completed.sh" "$hooks/job-completed.sh"
  runner_env_lines >"$share/github-runner.env"
  chmod 0644 "$share/github-runner.env"

  local trust_args=(--sysroot "${sysroot:-/}" --env-only)
  if [ -n "$runner_dir" ]; then
    local dir file
    dir=$(root "$runner_dir")
    file=$dir/.env
    if [ ! -d "$dir" ]; then
      install -d -m 0755 -o "$(uid_of "$runner_user")" -g "$(gid_of "$runner_user")" "$dir"
    fi
    if [ ! -e "$file" ]; then
      # actions/runner's env.sh appends to .env as the runner user.
      install -m 0644 -o "$(stat -c %u "$dir")" -g "$(stat -c %g "$dir")" /dev/null "$file"
    fi
    while IFS= read -r line; do
      set_var "$file" "${line%%=*}" "${line#*=}"
    done < <(runner_env_lines)
    trust_args+=(--runner-dir "$runner_dir")
  else
    log "no --runner-dir: GitHub runner variables only in $APP_DIR/share/github-runner.env"
  fi
  # The CA does not exist yet; its paths are fixed, so the variables can.
  "$src/certs/install-trust.sh" "${trust_args[@]}"

  if [ "$gitlab" = 1 ]; then
    install_gitlab "$share"
  fi
}

install_gitlab() {
  local share=$1 dropin env_lines=() line
  while IFS= read -r line; do env_lines+=("$line"); done < <(
    printf '%s\n' "https_proxy=$PROXY_URL" "HTTPS_PROXY=$PROXY_URL" \
      "no_proxy=$NO_PROXY_LIST" "NO_PROXY=$NO_PROXY_LIST"
    awk -F= '/^(NODE_EXTRA_CA_CERTS|REQUESTS_CA_BUNDLE|SSL_CERT_FILE|CURL_CA_BUNDLE|AWS_CA_BUNDLE|PIP_CERT)=/' \
      "$(root /etc/environment)"
  )
  dropin=$(root /etc/systemd/system/gitlab-runner.service.d)
  install -d -m 0755 "$dropin"
  {
    echo "# Installed by Airlock's install.sh: gitlab-runner itself and the shell"
    echo "# executor's jobs go through Airlock and trust its per-VM CA."
    echo "[Unit]"
    echo "Wants=airlock.service"
    echo "After=airlock.service"
    echo "[Service]"
    for line in "${env_lines[@]}"; do printf 'Environment="%s"\n' "$line"; done
  } >"$dropin/airlock.conf"
  chmod 0644 "$dropin/airlock.conf"
  {
    echo "# Merge into each [[runners]] entry of /etc/gitlab-runner/config.toml."
    echo "# Both cases of the proxy variables: tools disagree on which they read."
    echo "# Docker executor: containers cannot reach 127.0.0.1 on the host; set"
    echo "# Airlock's listen to the bridge address (e.g. 172.17.0.1:3128), use that"
    echo "# here, and mount the CA into the job container with"
    echo "#   volumes = [\"/usr/local/share/ca-certificates/airlock-ca.crt:/usr/local/share/ca-certificates/airlock-ca.crt:ro\"]"
    echo "[[runners]]"
    echo "  environment = ["
    for line in "${env_lines[@]}"; do printf '    "%s",\n' "$line"; done
    echo "  ]"
  } >"$share/gitlab-runner-config.toml"
  chmod 0644 "$share/gitlab-runner-config.toml"
}

install_packages
install_app
install_users
install_config
install_units
install_runner_integration
log "installed into ${sysroot:-/}"
