#!/usr/bin/env bash
# ACTIONS_RUNNER_HOOK_JOB_COMPLETED: closes the job's Airlock session so its
# recording is finalised and its binding cannot be reused by the next job.
# Always exits 0: a cleanup hook must not turn a green job red.
set -euo pipefail
trap 'exit 0' EXIT

airlock=${AIRLOCK_BIN:-/usr/local/bin/airlock}

main() {
  if [ ! -x "$airlock" ]; then
    return 0
  fi
  # Ends the job's session token (exported by the started hook's login) and closes its recording,
  # so the HAR is finalized now rather than at the idle timeout.
  if [ -n "${AIRLOCK_SESSION_TOKEN:-}" ] && "$airlock" logout --help >/dev/null 2>&1; then
    "$airlock" logout || echo "::warning::Airlock: 'airlock logout' failed (exit $?)."
  fi
  if "$airlock" sessions flush --help >/dev/null 2>&1; then
    "$airlock" sessions flush || echo "::warning::Airlock: 'airlock sessions flush' failed (exit $?)."
  else
    echo "Airlock: this build has no 'airlock sessions flush'; the session ends at its idle timeout."
  fi
}

main "$@" || echo "::warning::Airlock: job-completed hook failed; continuing."
