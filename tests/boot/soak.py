#!/usr/bin/env python3
"""`make soak`: N consecutive -smp 4 boots (default 50) cycling through
SOAK_SUITES, to shake out SMP races and rare hangs. Each boot is checked as
in the boot matrix; a hang (timeout, or a panic that halts) stops the soak
with its log. Prints KTAP and a count; exit status 1 on any failure."""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
import test_boot  # noqa: E402

# Suites each soak boot runs, in turn. Add a suite here once it passes in
# the matrix; test=boot gets the full banner checks of the matrix.
SOAK_SUITES = ("boot", "smp", "mm")


def spec(i, suite, args):
    if suite == "boot":
        s = test_boot.boot_spec(args.boot, args.machine, args.smp, args.mem)
    else:
        s = test_boot.suite_spec(suite, args.boot, args.machine, args.smp)
        s.mem = args.mem
    s.name = f"soak-{i:03d}-{s.name}"
    return s


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("count", nargs="?", type=int, default=50, help="boots (default 50)")
    p.add_argument("--boot", choices=harness.qemu.BOOTS, default="img")
    p.add_argument("--machine", choices=harness.qemu.MACHINES, default="q35")
    p.add_argument("--smp", type=int, default=4)
    p.add_argument("--mem", default="512M")
    p.add_argument("--suites", default=",".join(SOAK_SUITES),
                   help=f"comma-separated suites to cycle through (default {','.join(SOAK_SUITES)})")
    args = p.parse_args()
    suites = [s for s in args.suites.split(",") if s]

    harness.install_signal_handlers()
    rep = harness.Reporter(args.count, "soak")
    hang = None
    for i in range(args.count):
        result = harness.run_boot(spec(i + 1, suites[i % len(suites)], args))
        rep.boot(result)
        if result.timed_out:
            hang = result
            break
    passed = rep.number - rep.failed
    harness.diag(f"soak: {rep.number} of {args.count} boots run, {passed} passed, {rep.failed} failed"
                 + (f"; stopped at the hang in {hang.spec.name} (log above)" if hang else ""))
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main())
