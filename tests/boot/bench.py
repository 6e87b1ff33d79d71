#!/usr/bin/env python3
"""`make bench`: boots test=bench (our loader, -smp 4 by default) and prints
the kernel's `bench:` lines (guest TSC cycles, medians). Fails when the
kernel prints none or does not exit with the pass code (33). Then, for
information, the host-side boot time (tests/boot/boottime.py): QEMU start
to `smp: N CPUs online`, median of --boot-runs boots (0: skip)."""

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import boottime  # noqa: E402
import harness  # noqa: E402
from harness import BootSpec, qemu  # noqa: E402

BENCH_LINE = r"^bench:"
TIMEOUT = 300.0     # the whole benchmark table under TCG, with room to grow


def has_bench_lines(log):
    return None if re.search(BENCH_LINE, log, re.M) else "the kernel printed no 'bench:' lines"


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--boot", choices=qemu.BOOTS, default="img")
    p.add_argument("--machine", choices=qemu.MACHINES, default="pc")
    p.add_argument("--smp", type=int, default=4)
    p.add_argument("--mem", default="512M")
    p.add_argument("--boot-runs", type=int, default=5, metavar="N",
                   help="boots for the informational boot-time line (0: none)")
    args = p.parse_args()

    harness.install_signal_handlers()
    spec = BootSpec(name=f"bench-{args.boot}-{args.machine}-smp{args.smp}", boot=args.boot,
                    smp=args.smp, mem=args.mem, machine=args.machine, cmdline="test=bench",
                    timeout=TIMEOUT, expect_status=qemu.EXIT_PASS, ktap=False,
                    forbid=(r"^panic: ",), checks=(has_bench_lines,))
    result = harness.run_boot(spec)
    for line in result.log.splitlines():
        if re.match(BENCH_LINE, line):
            print(line, flush=True)
    if not result.ok:
        harness.failure_report(result)
        print(f"bench: FAILED ({result.seconds:.1f} s)")
        return 1
    print(f"# {spec.name}: {result.seconds:.1f} s wall, {result.accel}"
          + (" (guest cycles under TCG are not hardware cycles)" if result.accel.startswith("tcg") else ""))
    if args.boot_runs > 0:
        print("# " + boottime.measure(args.boot, args.machine, args.smp, args.mem, args.boot_runs),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
