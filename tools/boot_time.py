#!/usr/bin/env python3
"""Time from QEMU start to the kernel's banner line ("Kestrel ...") for each
boot path, median of N boots: `python3 tools/boot_time.py [N]`. QEMU runs
headless (TCG here), -smp 4, with `test=boot` so each boot exits by itself."""

import os
import re
import select
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import qemu  # noqa: E402

BANNER = re.compile(rb"(?:^|\r)Kestrel \S+ \(", re.M)    # GRUB ends lines "\n\r"
TIMEOUT = 120.0


def one(boot):
    argv = qemu.build_argv(boot, 4, "512M", "pc", "test=boot")
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    out, seen = b"", None
    try:
        while time.monotonic() - start < TIMEOUT:
            r, _, _ = select.select([proc.stdout], [], [], 0.05)
            if r:
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                out += chunk
                if seen is None and BANNER.search(out):
                    seen = time.monotonic() - start
            if seen is not None and proc.poll() is not None:
                break
    finally:
        proc.kill()
        proc.wait()
    return seen


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for boot in ("img", "iso", "uefi"):
        times = [t for t in (one(boot) for _ in range(n)) if t is not None]
        if not times:
            print(f"{boot}: no banner within {TIMEOUT:.0f} s")
            continue
        print(f"{boot}: banner after {statistics.median(times):.2f} s (median of {len(times)}, "
              f"min {min(times):.2f}, max {max(times):.2f})")


if __name__ == "__main__":
    main()
