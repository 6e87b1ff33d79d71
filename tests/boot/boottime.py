#!/usr/bin/env python3
"""Host-side boot time: from launching QEMU to the serial line
`smp: N CPUs online`, timestamped on the host as COM1's bytes arrive on a
pipe (QEMU's stdout). Prints the median of --runs boots, and the other
marks (first serial byte, the kernel banner) for orientation.

This is a measurement, never a test: it passes whatever the figure is, and
fails only when a boot does not reach the line.

    python3 tests/boot/boottime.py --runs 7 --smp 4
"""

import argparse
import os
import re
import selectors
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "tools"))
import qemu  # noqa: E402

ONLINE = re.compile(rb"^smp: (\d+) CPUs online", re.M)
BANNER = re.compile(rb"^Kestrel ", re.M)
BOOT_TIMEOUT = 60.0     # seconds for one boot to reach the line


def one_boot(args):
    """Seconds from Popen to: first serial byte, banner, the online line."""
    argv = qemu.build_argv(boot=args.boot, smp=args.smp, mem=args.mem, machine=args.machine,
                           cmdline=args.cmdline, accel=args.accel, cpu=args.cpu,
                           image=args.image)
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    buf, first, banner, online, cpus = b"", None, None, None, None
    try:
        while online is None and time.monotonic() - t0 < BOOT_TIMEOUT:
            if not sel.select(timeout=0.5):
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            now = time.monotonic() - t0
            if not chunk:
                break
            buf += chunk
            first = first if first is not None else now
            if banner is None and BANNER.search(buf):
                banner = now
            m = ONLINE.search(buf)
            if m:
                online, cpus = now, int(m.group(1))
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    if online is None:
        tail = buf.decode(errors="replace").splitlines()[-20:]
        raise RuntimeError("no 'smp: N CPUs online' line; serial tail:\n" + "\n".join(tail))
    return first, banner, online, cpus


def summary(args, rows, cpus):
    """The result line: QEMU start to the online line, and the kernel's part
    (banner to the online line), medians."""
    med = statistics.median(r[2] for r in rows)
    kern = statistics.median(r[2] - r[1] for r in rows if r[1] is not None)
    return (f"boottime: QEMU start to 'smp: {cpus} CPUs online': median {med:.3f} s of "
            f"{len(rows)} runs (min {min(r[2] for r in rows):.3f}, max "
            f"{max(r[2] for r in rows):.3f}); kernel banner to that line: median "
            f"{kern:.3f} s; {args.boot}/{args.machine} -smp {args.smp}, "
            f"{qemu.choose_accel(args.accel).accel}, host clock")


def measure(boot, machine, smp, mem, runs, image=None):
    """The summary line of `runs` boots (bench.py's informational line)."""
    args = argparse.Namespace(boot=boot, machine=machine, smp=smp, mem=mem, cmdline="",
                              accel=None, cpu=None, image=image)
    rows, cpus = [], smp
    for _ in range(runs):
        first, banner, online, cpus = one_boot(args)
        rows.append((first, banner, online))
    return summary(args, rows, cpus)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--boot", choices=qemu.BOOTS, default="img")
    p.add_argument("--machine", choices=qemu.MACHINES, default="pc")
    p.add_argument("--smp", type=int, default=4)
    p.add_argument("--mem", default="512M")
    p.add_argument("--cmdline", default="", help="extra kernel words (fw_cfg)")
    p.add_argument("--accel", default=None)
    p.add_argument("--cpu", default=None)
    p.add_argument("--image", default=None, help="boot this image instead of build/'s")
    p.add_argument("--quiet", action="store_true", help="only the summary line")
    args = p.parse_args()

    rows = []
    for i in range(args.runs):
        first, banner, online, cpus = one_boot(args)
        rows.append((first, banner, online))
        if not args.quiet:
            print(f"# run {i + 1}: first serial byte {first:.3f} s, banner "
                  f"{banner if banner is None else round(banner, 3)} s, "
                  f"smp: {cpus} CPUs online {online:.3f} s", flush=True)
    print(summary(args, rows, cpus))
    return 0


if __name__ == "__main__":
    sys.exit(main())
