# Every value is a variable; defaults come from the environment where a CI
# system would set them. Secrets are marked sensitive so Packer masks them in
# its output.

variable "airlock_bundle" {
  type        = string
  default     = env("AIRLOCK_BUNDLE")
  description = "Path to the built Airlock tarball (package.json, dist/, production node_modules/). See docs/appliance.md."
}

variable "source_root" {
  type        = string
  default     = ""
  description = "Airlock checkout holding systemd/, certs/ and packer/. Empty: the parent of this template's directory."
}

variable "image_name" {
  type    = string
  default = "airlock-runner"
}

variable "runner_user" {
  type        = string
  default     = "runner"
  description = "The CI job's user: locked out of direct web egress. Created if the base image lacks it."
}

variable "runner_dir" {
  type        = string
  default     = "/opt/actions-runner"
  description = "actions/runner directory whose .env gets the proxy, CA and hook variables."
}

variable "gitlab" {
  type        = bool
  default     = false
  description = "Also install the gitlab-runner systemd drop-in and config.toml snippet."
}

variable "node_major" {
  type    = string
  default = "20"
}

# --- qemu (local build) ---

# Any cloud-init disk image works: `npm run image` passes a Debian 12 image
# it builds locally (packer/local/base-image.sh).
variable "ubuntu_image_url" {
  type    = string
  default = "https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img"
}

# The default fetches Ubuntu's checksum list, so `packer validate` needs the
# network unless a literal "sha256:..." is passed (CI does that to stay offline).
variable "ubuntu_image_checksum" {
  type    = string
  default = "file:https://cloud-images.ubuntu.com/noble/current/SHA256SUMS"
}

variable "qemu_accelerator" {
  type        = string
  default     = "kvm"
  description = "kvm, or tcg (emulation) where /dev/kvm is missing or hangs; npm run image probes and picks."
}

variable "qemu_extra_args" {
  type        = list(list(string))
  default     = []
  description = "More QEMU arguments, e.g. [[\"-kernel\", \"vmlinuz\"], [\"-initrd\", \"initrd.img\"], [\"-append\", \"root=... console=ttyS0\"]] for a base image without a boot loader."
}

variable "qemu_output_directory" {
  type    = string
  default = "output-airlock-runner"
}

variable "qemu_disk_size" {
  type    = string
  default = "20G"
}

variable "qemu_memory" {
  type    = number
  default = 4096
}

variable "qemu_cpus" {
  type    = number
  default = 2
}

variable "cloud_init_dir" {
  type        = string
  default     = ""
  description = "Directory served to the VM as its NoCloud seed (user-data, meta-data). Empty: packer/http."
}

variable "ssh_username" {
  type    = string
  default = "packer"
}

variable "ssh_password" {
  type        = string
  default     = env("PACKER_SSH_PASSWORD")
  sensitive   = true
  description = "Password of the build-only account that the cloud-init seed creates; the build locks the account at the end."
}

# --- amazon-ebs (cloud build) ---

variable "aws_region" {
  type    = string
  default = env("AWS_REGION")
}

variable "aws_access_key" {
  type        = string
  default     = env("AWS_ACCESS_KEY_ID")
  sensitive   = true
  description = "Empty: the AWS SDK's default chain (profile, instance role)."
}

variable "aws_secret_key" {
  type      = string
  default   = env("AWS_SECRET_ACCESS_KEY")
  sensitive = true
}

variable "aws_instance_type" {
  type    = string
  default = "t3.medium"
}

variable "aws_source_ami_name" {
  type    = string
  default = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"
}

variable "aws_source_ami_owner" {
  type        = string
  default     = "099720109477"
  description = "Canonical's AWS account."
}

variable "aws_subnet_id" {
  type    = string
  default = env("AWS_SUBNET_ID")
}

variable "aws_ssh_username" {
  type    = string
  default = "ubuntu"
}

variable "aws_volume_size" {
  type    = number
  default = 20
}

# gp3 baseline values; older amazon builders refuse gp3 without them.
variable "aws_volume_throughput" {
  type    = number
  default = 125
}

variable "aws_volume_iops" {
  type    = number
  default = 3000
}
