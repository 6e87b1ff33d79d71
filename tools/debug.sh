#!/usr/bin/env bash
# `make debug`: QEMU held at reset with its gdbstub, then gdb on
# build/kestrel.elf with tools/gdb/kestrel.gdb (which loads the kestrel-*
# helpers of tools/gdb/kestrel.py), running to the stop DEBUG_STOP names:
#   kernel (default)  kernel_main
#   ap                ap_entry, the first C function of an AP (needs SMP >= 2)
#   user:<prog>       main of user program <prog>, in that process only
# Usage: tools/debug.sh [img|iso|uefi]
#   (env: SMP, MEM, GDB_PORT, CMDLINE, DEBUG_STOP, KESTREL_BUILD)
set -euo pipefail

cd "$(dirname "$0")/.."
boot=${1:-${BOOT:-img}}
port=${GDB_PORT:-1234}
build=${KESTREL_BUILD:-build}
elf=$build/kestrel.elf
serial=$build/debug-serial.log
python=${PYTHON:-python3}

stop=${DEBUG_STOP:-kernel}
smp=${SMP:-1}

case $boot in
img|iso|uefi) ;;
*) echo "debug.sh: unknown boot '$boot' (img, iso or uefi)" >&2; exit 2 ;;
esac
[ -f "$elf" ] || { echo "debug.sh: $elf missing (run: make)" >&2; exit 1; }
case $stop in
kernel) ;;
ap) [ "$smp" -ge 2 ] || { echo "debug.sh: DEBUG_STOP=ap needs SMP=2 or more (SMP=$smp)" >&2; exit 2; } ;;
user:?*)
	prog=${stop#user:}
	[ -f "$build/user/bin/$prog" ] || { echo "debug.sh: no user program $build/user/bin/$prog" >&2; exit 2; }
	# A boot runs init, its workers and sh by itself; the shell cannot be
	# typed at here (serial goes to a file), so any other program is made
	# the first one with the kernel's init= word.
	case $prog in init|sh|worker) ;; *)
		case " ${CMDLINE:-} " in *" init="*) ;; *)
			CMDLINE="${CMDLINE:+$CMDLINE }init=$prog"
			echo "debug.sh: booting with init=$prog so that '$prog' runs" >&2 ;;
		esac ;;
	esac ;;
*) echo "debug.sh: unknown DEBUG_STOP '$stop' (kernel, ap or user:<program>)" >&2; exit 2 ;;
esac
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
"$python" tools/qemu.py --boot "$boot" --smp "$smp" --mem "${MEM:-512M}" \
	${CMDLINE:+--cmdline "$CMDLINE"} --serial "$serial" --gdb "$port" --stopped &
qemu_pid=$!
# qemu.py execs QEMU, so this PID is QEMU's own; kill it whatever way gdb ends.
trap 'kill "$qemu_pid" 2>/dev/null || true; wait "$qemu_pid" 2>/dev/null || true' EXIT

echo "debug.sh: QEMU ($boot) pid $qemu_pid, gdbstub 127.0.0.1:$port, serial in $serial" \
	"(tail -f it in another terminal); stopping at $stop; help kestrel lists the helpers"
# A non-interactive shell starts background jobs with SIGINT ignored, so
# Ctrl-C in gdb interrupts the guest, not QEMU.
gdb -q "$elf" -x tools/gdb/kestrel.gdb -ex "kestrel-attach 127.0.0.1:$port $stop"
