#!/usr/bin/env bash
# ACTIONS_RUNNER_HOOK_JOB_STARTED: opens the job's Airlock session before the
# first step runs. A hook failure fails the job in actions/runner, and a job
# should never fail because of this hook (without a session Airlock refuses the
# job's Datadog calls anyway, which is the safe outcome), so it always exits 0.
set -euo pipefail
trap 'exit 0' EXIT

airlock=${AIRLOCK_BIN:-/usr/local/bin/airlock}

main() {
  if [ ! -x "$airlock" ]; then
    echo "::warning::Airlock: $airlock is missing; this job has no Airlock session."
    return 0
  fi
  if "$airlock" login --help >/dev/null 2>&1; then
    # A hook is its own process: the proxy, key and CA variables reach the job's steps only
    # through $GITHUB_ENV (github-env also masks the session token in the job's log first).
    local format=sh
    [ -n "${GITHUB_ENV:-}" ] && format=github-env
    if "$airlock" login --format "$format"; then
      echo "Airlock: job session opened."
    else
      echo "::warning::Airlock: 'airlock login' failed (exit $?); Datadog calls from this job will be refused."
    fi
    return 0
  fi
  cat <<'MSG'
::notice::Airlock: this build has no 'airlock login' yet, so the job was not logged in automatically.
Manual step: give the job an OIDC token (workflow 'permissions: id-token: write') and send it with
each request as described in the README section on identity; calls without a verified job identity
are refused by Airlock.
MSG
}

main "$@" || echo "::warning::Airlock: job-started hook failed; continuing."
