#!/usr/bin/env bash
# Dumps the SMP platform tables SeaBIOS/QEMU build (ACPI RSDP, RSDT/XSDT and
# the tables they list, the FADT's DSDT, MP floating pointer and
# configuration table, BDA and EBDA) as small files named <physical address>-<what>.bin, the form
# tests/unit/test_acpi.c and test_mptable.c load at their real addresses.
#
# Usage: tools/dump_tables.sh OUTDIR [QEMU ARGS...]
# tests/unit/data/ was made with (QEMU 7.2, SeaBIOS 1.16):
#   tools/dump_tables.sh tests/unit/data/pc-smp4 -M pc -smp 4,sockets=4
#   tools/dump_tables.sh tests/unit/data/q35-smp4 -M q35 -smp 4
#   tools/dump_tables.sh tests/unit/data/pc-smp2-max8 -M pc -smp 2,maxcpus=8
#   tools/dump_tables.sh tests/unit/data/pc-smp8-noacpi -M pc -smp 8,sockets=8 -no-acpi
# (SeaBIOS lists one MP processor entry per socket, hence sockets=N.)
# QEMU runs SeaBIOS without a disk; the script polls the F segment until
# the tables appear, then reads memory with QMP's pmemsave (the monitor
# command of the same name). Delete OUTDIR first: addresses move.
set -euo pipefail

if [ $# -lt 1 ]; then
	sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
fi
out=$1
shift
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d /tmp/dump_tables.XXXXXX)
sock=$work/monitor.sock

qemu-system-x86_64 -nic none -display none -serial none -parallel none -no-reboot \
	-m 128M -qmp "unix:$sock,server=on,wait=off" "$@" &
qemu_pid=$!
cleanup() {
	kill "$qemu_pid" 2>/dev/null || true
	wait "$qemu_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

python3 - "$sock" "$work" "$out" <<'EOF'
import json, os, socket, struct, sys, time

sock_path, work, out = sys.argv[1:4]
FSEG, FSEG_LEN = 0xE0000, 0x20000       # ACPI 5.2.5.1 / MP 4 search areas
SDT_HEADER = 36

for _ in range(100):                    # wait for QEMU to create the socket
    if os.path.exists(sock_path):
        break
    time.sleep(0.1)
qmp = socket.socket(socket.AF_UNIX)
qmp.connect(sock_path)
replies = qmp.makefile("r")

def command(name, **args):
    """One QMP command; skips asynchronous events, returns its result."""
    qmp.sendall(json.dumps({"execute": name, "arguments": args}).encode() + b"\n")
    while True:
        msg = json.loads(replies.readline() or sys.exit("QMP connection closed"))
        if "error" in msg:
            sys.exit(f"QMP {name}: {msg['error']}")
        if "return" in msg:
            return msg["return"]

def mem(addr, size):
    path = os.path.join(work, "mem.bin")
    command("pmemsave", val=addr, size=size, filename=path)
    with open(path, "rb") as f:
        data = f.read()
    if len(data) != size:
        sys.exit(f"pmemsave {addr:#x} {size:#x}: got {len(data)} bytes")
    return data

def save(addr, data, what):
    name = f"{addr:08x}-{what}.bin"
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
    print(f"  {name:32} {len(data):5} bytes")

def find(data, sig):
    for off in range(0, len(data), 16):
        if data[off:off + len(sig)] == sig:
            return off
    return None

json.loads(replies.readline())             # greeting
command("qmp_capabilities")
for _ in range(100):                    # SeaBIOS builds the tables during POST
    fseg = mem(FSEG, FSEG_LEN)
    if find(fseg, b"RSD PTR ") is not None or find(fseg, b"_MP_") is not None:
        break
    time.sleep(0.2)
else:
    sys.exit("no RSDP or MP floating pointer appeared in 0xE0000-0xFFFFF")
time.sleep(0.5)                         # let SeaBIOS finish writing them
fseg = mem(FSEG, FSEG_LEN)

bda = mem(0x400, 0x100)
save(0x400, bda, "BDA")
ebda = struct.unpack_from("<H", bda, 0x0E)[0] << 4
if ebda:
    save(ebda, mem(ebda, 0x400), "EBDA")

off = find(fseg, b"RSD PTR ")
if off is not None:
    rev = fseg[off + 15]
    size = struct.unpack_from("<I", fseg, off + 20)[0] if rev >= 2 else 20
    save(FSEG + off, fseg[off:off + size], "RSDP")
    roots = [(struct.unpack_from("<I", fseg, off + 16)[0], "RSDT", 4)]
    if rev >= 2:
        roots.append((struct.unpack_from("<Q", fseg, off + 24)[0], "XSDT", 8))
    for root, sig, width in roots:
        if not root:
            continue
        length = struct.unpack_from("<I", mem(root, SDT_HEADER), 4)[0]
        table = mem(root, length)
        save(root, table, sig)
        for i in range(SDT_HEADER, length, width):
            pa = int.from_bytes(table[i:i + width], "little")
            hdr = mem(pa, SDT_HEADER)
            body = mem(pa, struct.unpack_from("<I", hdr, 4)[0])
            save(pa, body, hdr[:4].decode())
            if hdr[:4] == b"FACP":          # the DSDT is listed by the FADT, not the root
                dsdt = struct.unpack_from("<I", body, 40)[0]
                if len(body) >= 148 and struct.unpack_from("<Q", body, 140)[0]:
                    dsdt = struct.unpack_from("<Q", body, 140)[0]
                if dsdt:
                    dhdr = mem(dsdt, SDT_HEADER)
                    save(dsdt, mem(dsdt, struct.unpack_from("<I", dhdr, 4)[0]), "DSDT")

off = find(fseg, b"_MP_")
if off is not None:
    save(FSEG + off, fseg[off:off + 16 * fseg[off + 8]], "MPFP")
    cfg = struct.unpack_from("<I", fseg, off + 4)[0]
    if cfg:
        hdr = mem(cfg, 44)
        base_len, = struct.unpack_from("<H", hdr, 4)
        ext_len, = struct.unpack_from("<H", hdr, 40)
        save(cfg, mem(cfg, base_len + ext_len), "PCMP")

command("quit")
EOF
