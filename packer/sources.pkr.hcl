locals {
  # Image names must be unique per build; formatdate keeps them sortable.
  stamp          = formatdate("YYYYMMDDhhmmss", timestamp())
  repo_root      = var.source_root != "" ? var.source_root : "${path.root}/.."
  cloud_init_dir = var.cloud_init_dir != "" ? var.cloud_init_dir : "${path.root}/http"
}

# Local build from Ubuntu's 24.04 cloud image. cloud-init reads its NoCloud
# seed over Packer's HTTP server (the serial number tells it where).
source "qemu" "runner" {
  iso_url          = var.ubuntu_image_url
  iso_checksum     = var.ubuntu_image_checksum
  disk_image       = true
  disk_size        = var.qemu_disk_size
  format           = "qcow2"
  accelerator      = var.qemu_accelerator
  memory           = var.qemu_memory
  cpus             = var.qemu_cpus
  headless         = true
  output_directory = var.qemu_output_directory
  vm_name          = "${var.image_name}-${local.stamp}.qcow2"
  http_directory   = local.cloud_init_dir
  # Nothing of the build listens beyond the host's loopback: the seed's HTTP
  # server, VNC, and the SSH forward (Packer's own -netdev would bind it to
  # every address). The guest reaches the seed at HTTPIP, 10.0.2.2: QEMU's
  # user-mode alias for the host's loopback.
  http_bind_address = "127.0.0.1"
  vnc_bind_address  = "127.0.0.1"
  qemuargs = concat([
    ["-smbios", "type=1,serial=ds=nocloud-net;s=http://{{ .HTTPIP }}:{{ .HTTPPort }}/"],
    ["-netdev", "user,id=user.0,hostfwd=tcp:127.0.0.1:{{ .SSHHostPort }}-:22"],
  ], var.qemu_extra_args)
  communicator = "ssh"
  ssh_username = var.ssh_username
  ssh_password = var.ssh_password
  ssh_timeout  = "20m"
  # The build login exists only for the build: lock and expire it in the
  # same root shell that powers off. A provisioner cannot do it, because
  # sudo refuses an expired account, so this shutdown would then fail and
  # Packer would kill the VM and fail the build after shutdown_timeout.
  shutdown_command = "sudo sh -c 'passwd --lock ${var.ssh_username} && usermod --expiredate 1 ${var.ssh_username} && shutdown -P now'"
}

source "amazon-ebs" "runner" {
  region        = var.aws_region
  access_key    = var.aws_access_key
  secret_key    = var.aws_secret_key
  instance_type = var.aws_instance_type
  subnet_id     = var.aws_subnet_id
  ami_name      = "${var.image_name}-${local.stamp}"
  source_ami_filter {
    filters = {
      name                = var.aws_source_ami_name
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = [var.aws_source_ami_owner]
    most_recent = true
  }
  launch_block_device_mappings {
    device_name           = "/dev/sda1"
    volume_size           = var.aws_volume_size
    volume_type           = "gp3"
    throughput            = var.aws_volume_throughput
    iops                  = var.aws_volume_iops
    delete_on_termination = true
  }
  ssh_username = var.aws_ssh_username
  tags = {
    Name = "${var.image_name}-${local.stamp}"
    Role = "ci-runner"
  }
}
