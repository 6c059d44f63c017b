# Plugin requirements for Packer >= 1.7 (run `packer init packer/` once).
#
# Kept in a file of its own on purpose: Debian's packer 1.6.6, which CI uses to
# run `packer validate` and `packer fmt -check` offline, predates plugins and
# rejects any `packer { required_plugins {...} }` block, even with
# -syntax-only. CI copies this directory without this file; with a current
# Packer keep it, or the qemu and amazon-ebs builders are not found.
packer {
  required_version = ">= 1.7.0"
  required_plugins {
    qemu = {
      version = ">= 1.1.0"
      source  = "github.com/hashicorp/qemu"
    }
    amazon = {
      version = ">= 1.3.0"
      source  = "github.com/hashicorp/amazon"
    }
  }
}
