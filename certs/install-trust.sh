#!/usr/bin/env bash
# Makes the machine, its JDKs and the CI runner trust Airlock's per-VM CA.
#
# usage: install-trust.sh [--sysroot DIR] [--runner-dir DIR] CA_FILE
#        install-trust.sh [--sysroot DIR] [--runner-dir DIR] --env-only
#
#   --sysroot DIR     work on the file system tree at DIR instead of / (image
#                     builds, tests). Default /.
#   --runner-dir DIR  the actions/runner directory (path inside the sysroot);
#                     its .env gets the CA variables.
#   --env-only        write only the environment variables. The CA does not
#                     exist at image build time (it is created per VM at first
#                     boot), but the paths the variables name are fixed, so the
#                     image can carry them; airlock.service runs this script
#                     again with the CA on every start.
#
# What it writes:
#   SYSROOT/usr/local/share/ca-certificates/airlock-ca.crt and the system bundle
#   SYSROOT/etc/ssl/certs/ca-certificates.crt (update-ca-certificates);
#   the alias "airlock-ca" in every Java cacerts found in the sysroot (keytool);
#   KEY=VALUE lines in SYSROOT/etc/environment and RUNNER_DIR/.env.
#
# Debian's update-ca-certificates (20230311) has no --sysroot option. For a
# sysroot other than / this script passes --certsconf/--certsdir/
# --localcertsdir/--etccertsdir under the sysroot, points --hooksdir at a path
# that does not exist (the hooks would otherwise update the *host's* Java
# store), and then rewrites the symlinks it made in etc/ssl/certs, which carry
# the sysroot prefix, to the paths they will have on the booted system.
#
# Idempotent: every variable is replaced in place or appended once; the Java
# alias is replaced, never duplicated. A CA whose fingerprint is already the
# installed one (every restart of airlock.service) leaves the system bundle
# and each Java store that holds it untouched.
set -euo pipefail

readonly CA_NAME=airlock-ca
readonly LOCAL_CA_PATH=/usr/local/share/ca-certificates/${CA_NAME}.crt
readonly BUNDLE_PATH=/etc/ssl/certs/ca-certificates.crt
# Tools that replace their default CA list need the whole system bundle (the
# Airlock CA plus the public roots, for hosts Airlock tunnels untouched). Node
# adds NODE_EXTRA_CA_CERTS to its built-in roots, so it gets the CA alone.
readonly ENV_VARS=(
  "NODE_EXTRA_CA_CERTS=${LOCAL_CA_PATH}"
  "REQUESTS_CA_BUNDLE=${BUNDLE_PATH}"
  "SSL_CERT_FILE=${BUNDLE_PATH}"
  "CURL_CA_BUNDLE=${BUNDLE_PATH}"
  "AWS_CA_BUNDLE=${BUNDLE_PATH}"
  "PIP_CERT=${BUNDLE_PATH}"
)

sysroot=/
runner_dir=
env_only=0
ca_file=

usage() {
  sed -n '4,5p' "$0" | sed 's/^# //' >&2
  exit 2
}

log() { printf 'install-trust: %s\n' "$*" >&2; }

# Runs a chatty tool silently, showing its output only when it fails.
quiet() {
  local out
  if ! out=$("$@" 2>&1); then
    printf '%s\n' "$out" >&2
    return 1
  fi
}

while [ "$#" -gt 0 ]; do
  case "$1" in
    --sysroot) [ "$#" -ge 2 ] || usage; sysroot=$2; shift 2 ;;
    --runner-dir) [ "$#" -ge 2 ] || usage; runner_dir=$2; shift 2 ;;
    --env-only) env_only=1; shift ;;
    -h|--help) usage ;;
    --) shift; break ;;
    -*) log "unknown option: $1"; usage ;;
    *) break ;;
  esac
done
if [ "$env_only" = 0 ]; then
  [ "$#" -eq 1 ] || usage
  ca_file=$1
else
  [ "$#" -eq 0 ] || usage
fi

# update-ca-certificates cd's into etc/ssl/certs, so every path must be absolute.
sysroot=$(realpath -m -- "$sysroot")
[ -d "$sysroot" ] || { log "sysroot $sysroot is not a directory"; exit 1; }
sysroot=${sysroot%/}
root() { printf '%s%s' "$sysroot" "$1"; }

# set_var FILE KEY VALUE: one literal KEY=VALUE line (actions/runner's .env
# takes no quotes), replacing any earlier KEY= line. Rewrites in place so the
# file keeps its owner and mode.
set_var() {
  local file=$1 key=$2 value=$3 tmp
  if [ -f "$file" ] && grep -qxF -- "${key}=${value}" "$file" \
    && [ "$(grep -c -- "^${key}=" "$file")" = 1 ]; then
    return 0
  fi
  tmp=$(mktemp)
  if [ -f "$file" ]; then
    awk -v key="$key" -v line="${key}=${value}" '
      index($0, key "=") == 1 { if (!done) { print line; done = 1 }; next }
      { print }
      END { if (!done) print line }
    ' "$file" >"$tmp"
  else
    printf '%s=%s\n' "$key" "$value" >"$tmp"
  fi
  cat "$tmp" >"$file"
  rm -f "$tmp"
}

write_env_file() {
  local file=$1 kv
  for kv in "${ENV_VARS[@]}"; do
    set_var "$file" "${kv%%=*}" "${kv#*=}"
  done
}

# fingerprint FILE: the certificate's SHA-256 fingerprint, AB:CD:... as keytool prints it.
fingerprint() { openssl x509 -in "$1" -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2; }

install_system_store() {
  local dest tmp
  dest=$(root "$LOCAL_CA_PATH")
  mkdir -p "$(dirname "$dest")"
  tmp=$(mktemp "$(dirname "$dest")/.${CA_NAME}.XXXXXX")
  # Re-encoding (instead of cp) means only a certificate can come out: a
  # symlink planted where the CA should be cannot make root copy another file.
  if ! openssl x509 -in "$ca_file" -out "$tmp" 2>/dev/null; then
    rm -f "$tmp"
    log "$ca_file is not a PEM certificate"
    exit 1
  fi
  chmod 0644 "$tmp"
  # airlock.service runs this on every start with the same per-VM CA, and
  # update-ca-certificates (a rehash of every root, plus its Java hook) takes
  # minutes on a small VM: skip it when the installed CA has this fingerprint
  # and the system bundle already trusts it.
  if [ -f "$dest" ] && [ "$(fingerprint "$dest")" = "$(fingerprint "$tmp")" ] \
    && openssl verify -CAfile "$(root "$BUNDLE_PATH")" "$dest" >/dev/null 2>&1; then
    rm -f "$tmp"
    log "system store already trusts this CA; unchanged"
    return 0
  fi
  mv -f "$tmp" "$dest"

  if [ "$sysroot" = "" ]; then
    quiet update-ca-certificates
    return 0
  fi
  local certsconf etccerts link target
  certsconf=$(root /etc/ca-certificates.conf)
  [ -f "$certsconf" ] || certsconf=/dev/null
  etccerts=$(root /etc/ssl/certs)
  mkdir -p "$etccerts"
  quiet update-ca-certificates \
    --certsconf "$certsconf" \
    --certsdir "$(root /usr/share/ca-certificates)" \
    --localcertsdir "$(root /usr/local/share/ca-certificates)" \
    --etccertsdir "$etccerts" \
    --hooksdir /nonexistent/airlock-no-hooks
  while IFS= read -r -d '' link; do
    target=$(readlink "$link")
    case "$target" in
      "$sysroot"/*) ln -sfn "${target#"$sysroot"}" "$link" ;;
    esac
  done < <(find "$etccerts" -maxdepth 1 -type l -print0)
}

find_keytool() {
  if command -v keytool >/dev/null 2>&1; then
    command -v keytool
    return 0
  fi
  local k
  for k in "$(root /usr/lib/jvm)"/*/bin/keytool; do
    if [ -x "$k" ]; then printf '%s\n' "$k"; return 0; fi
  done
  return 1
}

install_java() {
  local stores=() f keytool seen=() real s dup listed want
  want=$(fingerprint "$(root "$LOCAL_CA_PATH")")
  f=$(root /etc/ssl/certs/java/cacerts)
  [ -f "$f" ] && [ ! -L "$f" ] && stores+=("$f")
  # Tarball JDKs keep their own store; Debian's JDK links to the one above.
  for f in "$(root /usr/lib/jvm)"/*/lib/security/cacerts "$(root /opt)"/*/lib/security/cacerts; do
    [ -f "$f" ] && [ ! -L "$f" ] && stores+=("$f")
  done
  if [ "${#stores[@]}" -eq 0 ]; then
    log "no Java cacerts under ${sysroot:-/}; skipping Java"
    return 0
  fi
  if ! keytool=$(find_keytool); then
    log "Java cacerts found but no keytool; skipping Java"
    return 0
  fi
  # The JDK default store password; from the environment so it is not in argv.
  export AIRLOCK_JAVA_STOREPASS=${AIRLOCK_JAVA_STOREPASS:-changeit}
  for f in "${stores[@]}"; do
    real=$(readlink -f "$f")
    dup=0
    for s in "${seen[@]+"${seen[@]}"}"; do [ "$s" = "$real" ] && dup=1; done
    [ "$dup" = 1 ] && continue
    seen+=("$real")
    # One JVM start to compare fingerprints, instead of three to replace an
    # alias that already holds this CA.
    if listed=$(LC_ALL=C "$keytool" -list -keystore "$f" -storepass:env AIRLOCK_JAVA_STOREPASS -alias "$CA_NAME" 2>/dev/null); then
      if grep -qF "(SHA-256): $want" <<<"$listed"; then
        log "Java store ${f#"$sysroot"} already trusts this CA; unchanged"
        continue
      fi
      quiet "$keytool" -delete -keystore "$f" -storepass:env AIRLOCK_JAVA_STOREPASS -alias "$CA_NAME"
    fi
    quiet "$keytool" -importcert -noprompt -trustcacerts -keystore "$f" -storepass:env AIRLOCK_JAVA_STOREPASS \
      -alias "$CA_NAME" -file "$(root "$LOCAL_CA_PATH")"
    log "trusted in Java store ${f#"$sysroot"}"
  done
}

write_runner_env() {
  local dir file owner
  dir=$(root "$runner_dir")
  file=$dir/.env
  mkdir -p "$dir"
  if [ ! -e "$file" ]; then
    # The runner's own env.sh appends to .env as the runner user.
    owner=$(stat -c '%u:%g' "$dir")
    install -m 0644 -o "${owner%:*}" -g "${owner#*:}" /dev/null "$file"
  fi
  write_env_file "$file"
}

if [ "$env_only" = 0 ]; then
  install_system_store
  install_java
fi
mkdir -p "$(root /etc)"
write_env_file "$(root /etc/environment)"
if [ -n "$runner_dir" ]; then
  write_runner_env
fi
log "done (sysroot ${sysroot:-/})"
