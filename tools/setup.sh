#!/usr/bin/env bash
# Installs the Debian packages Kestrel's build, run and test steps need.
# Usage: tools/setup.sh [--if-missing]
#   --if-missing  do nothing, silently, when every needed tool is present.
set -euo pipefail

packages=(qemu-system-x86 grub-pc-bin grub-efi-amd64-bin grub-common xorriso mtools
	  ovmf gdb python3 make gcc binutils util-linux console-setup-linux gdisk)
commands=(qemu-system-x86_64 grub-mkrescue grub-mkimage grub-file xorriso mformat mcopy mmd
	  mtype gdb python3 make gcc ld objcopy lsblk findmnt sgdisk)
# The console font drivers/fbcon.c draws (tools/mkfont.py, docs/console.md).
paths=(/usr/lib/grub/i386-pc /usr/lib/grub/x86_64-efi /usr/share/consolefonts/Lat15-Terminus16.psf.gz)

# OVMF: the combined image, or the split CODE/VARS pair (tools/qemu.py uses either).
have_ovmf() {
	[ -f /usr/share/ovmf/OVMF.fd ] || [ -f /usr/share/OVMF/OVMF.fd ] ||
		{ [ -f /usr/share/OVMF/OVMF_CODE.fd ] && [ -f /usr/share/OVMF/OVMF_VARS.fd ]; } ||
		{ [ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] && [ -f /usr/share/OVMF/OVMF_VARS_4M.fd ]; }
}

missing() {
	local c p
	for c in "${commands[@]}"; do
		command -v "$c" >/dev/null || echo "command $c"
	done
	for p in "${paths[@]}"; do
		[ -e "$p" ] || echo "path $p"
	done
	have_ovmf || echo "OVMF firmware"
}

if [ "${1:-}" = --if-missing ]; then
	[ -z "$(missing)" ] && exit 0
	echo "setup.sh: missing: $(missing | paste -sd, -)" >&2
elif [ $# -gt 0 ]; then
	echo "usage: $0 [--if-missing]" >&2
	exit 2
fi

if ! command -v apt-get >/dev/null; then
	echo "setup.sh: no apt-get: install by hand: ${packages[*]}" >&2
	exit 1
fi
if [ "$(id -u)" = 0 ]; then
	sudo=()
elif command -v sudo >/dev/null; then
	sudo=(sudo)
else
	echo "setup.sh: not root and no sudo: as root run: apt-get install ${packages[*]}" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	"${packages[@]}" </dev/null

if [ -n "$(missing)" ]; then
	echo "setup.sh: still missing after install: $(missing | paste -sd, -)" >&2
	exit 1
fi
echo "setup.sh: all tools present"
