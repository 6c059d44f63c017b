# Offline smoke build for CI (works with Debian's packer 1.6.6): a null
# source with no communicator runs install.sh on this machine, into a
# throwaway sysroot, through the same Packer machinery as the real image.
#
#   packer build -var sysroot=/tmp/x -var bundle_dir=/path/to/built/airlock packer/smoke
#
# Needs root (install.sh sets file owners).

variable "sysroot" {
  type        = string
  default     = env("AIRLOCK_SMOKE_SYSROOT")
  description = "Empty directory to install into. Never /."
}

variable "bundle_dir" {
  type        = string
  default     = env("AIRLOCK_SMOKE_BUNDLE_DIR")
  description = "Unpacked Airlock bundle (package.json, dist/, node_modules/)."
}

variable "runner_user" {
  type    = string
  default = "runner"
}

variable "runner_dir" {
  type    = string
  default = "/opt/actions-runner"
}

source "null" "smoke" {
  communicator = "none"
}

build {
  sources = ["source.null.smoke"]

  provisioner "shell-local" {
    environment_vars = [
      "SMOKE_SYSROOT=${var.sysroot}",
      "SMOKE_BUNDLE_DIR=${var.bundle_dir}",
      "SMOKE_RUNNER_USER=${var.runner_user}",
      "SMOKE_RUNNER_DIR=${var.runner_dir}",
      "SMOKE_INSTALL=${path.root}/../scripts/install.sh",
    ]
    inline_shebang = "/bin/sh -eu"
    inline = [
      "case \"$SMOKE_SYSROOT\" in ''|/) echo 'smoke: set var.sysroot to a scratch directory' >&2; exit 1;; esac",
      "bash \"$SMOKE_INSTALL\" --sysroot \"$SMOKE_SYSROOT\" --from \"$SMOKE_BUNDLE_DIR\" --runner-user \"$SMOKE_RUNNER_USER\" --runner-dir \"$SMOKE_RUNNER_DIR\" --gitlab",
      "test -L \"$SMOKE_SYSROOT/etc/systemd/system/multi-user.target.wants/airlock.service\"",
      "echo \"smoke: installed into $SMOKE_SYSROOT\"",
    ]
  }
}
