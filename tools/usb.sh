#!/usr/bin/env bash
# `make usb`: write a Kestrel image to a USB stick with dd, after checks that
# refuse anything but a whole, removable, unmounted disk large enough.
# Usage: tools/usb.sh DEV IMAGE [YES]   (YES=1 skips the typed confirmation)
set -euo pipefail

die() { echo "usb.sh: refusing: $*" >&2; exit 1; }

dev=${1:-}
image=${2:-}
yes=${3:-}

[ -n "$dev" ] || die "no device given; use: make usb DEV=/dev/sdX [IMAGE=build/kestrel.iso] [YES=1]"
[ -n "$image" ] || die "no image given"
if [ ! -f "$image" ] || [ ! -s "$image" ]; then
	die "image '$image' does not exist or is empty (run: make)"
fi
[ -e "$dev" ] || die "$dev does not exist"
[ -b "$dev" ] || die "$dev is not a block device"

# /dev/disk/by-id/... and other links: judge the node they point at.
node=$(readlink -f -- "$dev")
name=${node##*/}
sys=/sys/class/block/$name
[ -d "$sys" ] || die "$node has no $sys entry; cannot check what it is"

if [ -e "$sys/partition" ]; then
	parent=$(lsblk -no PKNAME -- "$node" 2>/dev/null | head -n1)
	die "$node is a partition; write the whole disk${parent:+ (/dev/$parent)} instead"
fi
type=$(lsblk -dno TYPE -- "$node" 2>/dev/null || true)
[ "$type" = disk ] || die "$node is ${type:+a $type, }not a disk"

# Nothing on the disk may be in use: mounted, swap, or held by dm/md/LVM.
while read -r part; do
	if findmnt -rno TARGET --source "$part" >/dev/null 2>&1; then
		die "$part is mounted on $(findmnt -rno TARGET --source "$part" | head -n1); unmount it first"
	fi
	if awk -v p="$part" 'NR > 1 && $1 == p { found = 1 } END { exit !found }' /proc/swaps; then
		die "$part is in use as swap"
	fi
	holders=$(ls "/sys/class/block/${part##*/}/holders" 2>/dev/null || true)
	[ -z "$holders" ] || die "$part is in use by $holders (device-mapper, RAID or LVM)"
done < <(lsblk -lnpo NAME -- "$node")

removable=$(cat "$sys/removable" 2>/dev/null || echo 0)
hotplug=$(lsblk -dno HOTPLUG -- "$node" 2>/dev/null | tr -d ' ')
tran=$(lsblk -dno TRAN -- "$node" 2>/dev/null | tr -d ' ')
if [ "$removable" != 1 ] && [ "$hotplug" != 1 ] && [ "$tran" != usb ]; then
	die "$node is not removable (removable=$removable hotplug=${hotplug:-?} transport=${tran:-?}); this looks like an internal disk"
fi

[ "$(cat "$sys/ro" 2>/dev/null || echo 0)" = 0 ] || die "$node is read-only (write-protect switch?)"
disk_bytes=$(( $(cat "$sys/size") * 512 ))      # sysfs counts 512-byte sectors
image_bytes=$(stat -c %s -- "$image")
[ "$image_bytes" -le "$disk_bytes" ] || die "$image ($image_bytes bytes) does not fit on $node ($disk_bytes bytes)"

model=$(lsblk -dno VENDOR,MODEL -- "$node" 2>/dev/null | tr -s ' ' || true)
size=$(lsblk -dno SIZE -- "$node" | tr -d ' ')
echo "Device: $node  model: ${model:-unknown}  size: $size  transport: ${tran:-?}"
echo "Image:  $image ($image_bytes bytes)"
echo "EVERYTHING on $node will be overwritten."
if [ "$yes" != 1 ]; then
	[ -t 0 ] || die "no terminal to confirm on; pass YES=1 to write without asking"
	read -r -p 'Type "yes" to write: ' answer || answer=
	[ "$answer" = yes ] || die "not confirmed"
fi

sudo=
if [ "$(id -u)" != 0 ] && [ ! -w "$node" ]; then
	command -v sudo >/dev/null || die "no write permission on $node and no sudo; run as root"
	sudo=sudo
fi
$sudo dd if="$image" of="$node" bs=4M conv=fsync status=progress
sync
echo "usb.sh: wrote $image to $node"
