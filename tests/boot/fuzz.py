#!/usr/bin/env python3
"""`make fuzz` (FUZZ_SECONDS=, FUZZ_SEED=) and its short run in make test:
boots test=fuzz at -smp 4 (tests/kernel/fuzz_tests.c, user/bin/fuzz.c).
The seed is printed first, so any failure replays exactly with
FUZZ_SEED=<seed>. The boot must end with every case ok: the fuzz run, and
the kernel's own checks afterwards (no leaked frames or heap objects, no
lock held, run queues empty). A hang or panic fails. Prints KTAP."""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from harness import BootSpec, qemu  # noqa: E402

CPUS = 4
WARMUP_SECONDS = 3          # tests/kernel/fuzz_tests.c FUZZ_WARMUP_SECONDS
# Boot, warm-up, the checks, and TCG slowing down under load: the guest
# clock runs at host speed, so the run itself takes `seconds` of wall time.
SLACK_SECONDS = 120


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS") or 60))
    p.add_argument("--seed", type=int, default=None,
                   help="default: $FUZZ_SEED, else random (printed)")
    p.add_argument("--procs", type=int, default=4, help="fuzz processes at once")
    p.add_argument("--boot", choices=qemu.BOOTS, default="img")
    args = p.parse_args()
    seed = args.seed if args.seed is not None else \
        int(os.environ.get("FUZZ_SEED") or int.from_bytes(os.urandom(4), "little"))
    print(f"# fuzz: seed {seed}, {args.seconds} s, {args.procs} processes, -smp {CPUS} "
          f"(replay: make fuzz FUZZ_SEED={seed} FUZZ_SECONDS={args.seconds})", flush=True)
    spec = BootSpec(
        name=f"fuzz-{args.boot}-smp{CPUS}-{args.seconds}s-seed{seed}", boot=args.boot, smp=CPUS,
        cmdline=f"test=fuzz fuzz_seed={seed} fuzz_seconds={args.seconds} fuzz_procs={args.procs}",
        timeout=args.seconds + WARMUP_SECONDS + SLACK_SECONDS, expect_status=qemu.EXIT_PASS,
        require=(r"^ok \d+ test_fuzz_nothing_leaked", r"^fuzz: done: "),
        forbid=(r"^panic: ",))
    return harness.run_suite("fuzz", [spec], 1)


if __name__ == "__main__":
    sys.exit(main())
