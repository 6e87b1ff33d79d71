#!/usr/bin/env bash
# `make debug`: QEMU held at reset with its gdbstub, then gdb on
# build/kestrel.elf with tools/gdb/kestrel.gdb, running to kernel_main.
# Usage: tools/debug.sh [img|iso|uefi]   (env: SMP, MEM, GDB_PORT, CMDLINE)
set -euo pipefail

cd "$(dirname "$0")/.."
boot=${1:-${BOOT:-img}}
port=${GDB_PORT:-1234}
build=${KESTREL_BUILD:-build}
elf=$build/kestrel.elf
serial=$build/debug-serial.log
python=${PYTHON:-python3}

case $boot in
img|iso|uefi) ;;
*) echo "debug.sh: unknown boot '$boot' (img, iso or uefi)" >&2; exit 2 ;;
esac
[ -f "$elf" ] || { echo "debug.sh: $elf missing (run: make)" >&2; exit 1; }
command -v gdb >/dev/null || { echo "debug.sh: gdb missing (run: bash tools/setup.sh)" >&2; exit 1; }
# Listening sockets from /proc, not a probe connection: connecting to
# another session's gdbstub would disturb it.
port_listening() {
	awk -v p="$(printf ':%04X' "$1")" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 }
		END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
if port_listening "$port"; then
	echo "debug.sh: port $port is in use (another debug session?); set GDB_PORT" >&2
	exit 1
fi

# Serial goes to a file: the terminal belongs to gdb.
: > "$serial"
"$python" tools/qemu.py --boot "$boot" --smp "${SMP:-1}" --mem "${MEM:-512M}" \
	${CMDLINE:+--cmdline "$CMDLINE"} --serial "$serial" --gdb "$port" --stopped &
qemu_pid=$!
# qemu.py execs QEMU, so this PID is QEMU's own; kill it whatever way gdb ends.
trap 'kill "$qemu_pid" 2>/dev/null || true; wait "$qemu_pid" 2>/dev/null || true' EXIT

echo "debug.sh: QEMU ($boot) pid $qemu_pid, gdbstub 127.0.0.1:$port, serial in $serial" \
	"(tail -f it in another terminal)"
# A non-interactive shell starts background jobs with SIGINT ignored, so
# Ctrl-C in gdb interrupts the guest, not QEMU.
gdb -q "$elf" -x tools/gdb/kestrel.gdb -ex "kestrel-attach 127.0.0.1:$port"
