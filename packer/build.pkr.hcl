build {
  name    = "runner"
  sources = ["source.qemu.runner", "source.amazon-ebs.runner"]

  provisioner "shell" {
    inline = [
      "cloud-init status --wait >/dev/null || true",
      "rm -rf /tmp/airlock-src",
      "mkdir -p /tmp/airlock-src/certs /tmp/airlock-src/packer",
    ]
  }

  # install.sh finds its units, ruleset and trust script relative to itself,
  # so the upload keeps the repository's layout.
  provisioner "file" {
    source      = var.airlock_bundle
    destination = "/tmp/airlock-src/airlock-bundle.tgz"
  }
  provisioner "file" {
    source      = "${local.repo_root}/systemd"
    destination = "/tmp/airlock-src"
  }
  provisioner "file" {
    source      = "${local.repo_root}/certs/install-trust.sh"
    destination = "/tmp/airlock-src/certs/install-trust.sh"
  }
  provisioner "file" {
    source      = "${local.repo_root}/packer/scripts"
    destination = "/tmp/airlock-src/packer"
  }
  provisioner "file" {
    source      = "${local.repo_root}/packer/files"
    destination = "/tmp/airlock-src/packer"
  }

  provisioner "shell" {
    execute_command  = "sudo sh -c '{{ .Vars }} {{ .Path }}'"
    environment_vars = ["NODE_MAJOR=${var.node_major}"]
    inline = [
      "bash /tmp/airlock-src/packer/scripts/install.sh --bundle /tmp/airlock-src/airlock-bundle.tgz --runner-user '${var.runner_user}' --runner-dir '${var.runner_dir}' ${var.gitlab ? "--gitlab" : ""}",
    ]
  }

  # Every VM made from this image must create its own CA and machine identity
  # on first boot: fail the build if anything left one behind, then reset
  # cloud-init and the machine-id.
  provisioner "shell" {
    execute_command = "sudo sh -c '{{ .Vars }} {{ .Path }}'"
    inline = [
      "rm -rf /tmp/airlock-src",
      "test ! -e /var/lib/airlock/ca",
      "test ! -e /usr/local/share/ca-certificates/airlock-ca.crt",
      "if grep -rlI -e 'PRIVATE KEY' /etc/airlock /var/lib/airlock; then echo 'private key material in the image' >&2; exit 1; fi",
      "cloud-init clean --logs --machine-id",
      # Debian 12's cloud-init (22.4) deletes /etc/machine-id here. Booted
      # from an initramfs that mounts the root read-only, systemd can then
      # neither read nor create an id ("System cannot boot: Missing
      # /etc/machine-id"), and networkd's DHCP fails without one. An empty
      # file is the state systemd documents for images: a fresh id per boot
      # until the first boot commits one.
      "test -e /etc/machine-id || install -m 0444 /dev/null /etc/machine-id",
    ]
  }
}
