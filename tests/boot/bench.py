#!/usr/bin/env python3
"""`make bench`: boots test=bench (our loader, -smp 4 by default) and prints
the kernel's `bench:` lines (guest TSC cycles, medians). Fails when the
kernel prints none or does not exit with the pass code (33).

With --release-build DIR (what `make bench` passes: build/release, the same
sources with KDEBUG=0) the release kernel is measured first and then the
debug build (--debug-build, default build/). Each release line is printed
unchanged, so `bench: <name>: N cycles/<unit>` stays the release figure,
with the debug build's median appended at the end:

    bench: <name>: N cycles/<unit> (median of ...) [debug build: M cycles]

A line only one build printed ends in `[release only]` or `[debug only]`.

Then, for information, the host-side boot time (tests/boot/boottime.py):
QEMU start to `smp: N CPUs online`, median of --boot-runs boots of the
release image when there is one, else of the build's (0: skip)."""

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import boottime  # noqa: E402
import harness  # noqa: E402
from harness import BootSpec, qemu  # noqa: E402

BENCH_LINE = r"^bench:"
# "bench: <name>: <median> cycles..." (a name may hold ':' only inside parentheses).
FIGURE = re.compile(r"^bench: (?P<name>.+?): (?P<median>\d+) cycles")
TIMEOUT = 300.0     # the whole benchmark table under TCG, with room to grow


def has_bench_lines(log):
    return None if re.search(BENCH_LINE, log, re.M) else "the kernel printed no 'bench:' lines"


def run_single(args):
    """One boot of the build qemu.BUILD points at; prints its bench: lines."""
    harness.install_signal_handlers()
    spec = BootSpec(name=f"bench-{args.boot}-{args.machine}-smp{args.smp}", boot=args.boot,
                    smp=args.smp, mem=args.mem, machine=args.machine,
                    cmdline=" ".join(w for w in ("test=bench", args.cmdline) if w),
                    timeout=TIMEOUT, expect_status=qemu.EXIT_PASS, ktap=False,
                    forbid=(r"^panic: ",), checks=(has_bench_lines,),
                    extra=("-cpu", args.cpu) if args.cpu else ())
    result = harness.run_boot(spec)
    for line in result.log.splitlines():
        if re.match(BENCH_LINE, line) or line.startswith("vmm: "):
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


def key(name):
    # Process ids in names (process_yield_pinned_pid62) may differ between builds.
    return re.sub(r"pid\d+", "pid", name)


def run_build(args, build):
    """Runs this script in --single mode on one build directory; (status, lines)."""
    argv = [sys.executable, __file__, "--single", "--boot", args.boot, "--machine", args.machine,
            "--smp", str(args.smp), "--mem", args.mem, "--cmdline", args.cmdline] + \
        (["--cpu", args.cpu] if args.cpu else [])
    env = dict(os.environ, KESTREL_BUILD=str(Path(build).resolve()))
    out = subprocess.run(argv, env=env, stdout=subprocess.PIPE, text=True)
    return out.returncode, out.stdout.splitlines()


def run_pair(args):
    rc_rel, rel = run_build(args, args.release_build)
    rc_dbg, dbg = run_build(args, args.debug_build)
    debug_figures = {}
    for line in dbg:
        m = FIGURE.match(line)
        if m:
            debug_figures[key(m["name"])] = m["median"]
    seen = set()
    print(f"# release build: {args.release_build} (KDEBUG=0: KMALLOC_DEBUG=0 LOCK_DEBUG=0)")
    print(f"# debug build:   {args.debug_build} (KMALLOC_DEBUG=1 LOCK_DEBUG=1)")
    for line in rel:
        m = FIGURE.match(line)
        if not m:
            print(line)
            continue
        k = key(m["name"])
        seen.add(k)
        tail = (f"[debug build: {debug_figures[k]} cycles]" if k in debug_figures
                else "[release only]")
        print(f"{line} {tail}")
    for line in dbg:
        m = FIGURE.match(line)
        if m:
            if key(m["name"]) not in seen:
                print(f"{line} [debug only]")
        elif line.startswith("#") or line.startswith("bench: ") and "guest TSC" not in line:
            print(f"{line} [debug build]")     # failures and the wall time
    return 1 if rc_rel or rc_dbg else 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--boot", choices=qemu.BOOTS, default="img")
    p.add_argument("--machine", choices=qemu.MACHINES, default="pc")
    p.add_argument("--smp", type=int, default=4)
    p.add_argument("--mem", default="512M")
    p.add_argument("--cmdline", default="", metavar="WORDS",
                   help="more kernel words after test=bench (e.g. console=serial: no screen)")
    p.add_argument("--cpu", help="QEMU -cpu model (e.g. max: PCID, INVPCID, ERMS under TCG)")
    p.add_argument("--release-build", metavar="DIR",
                   help="also measure this build (make release) and print it first")
    p.add_argument("--debug-build", metavar="DIR", default=str(qemu.BUILD),
                   help="the debug build beside it (default: %(default)s)")
    p.add_argument("--boot-runs", type=int, default=5, metavar="N",
                   help="boots for the informational boot-time line (0: none)")
    p.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.single:
        return run_single(args)
    status = run_pair(args) if args.release_build else run_single(args)
    if args.boot_runs > 0:
        image = None
        if args.release_build:
            image = str(Path(args.release_build) / qemu.IMAGES[args.boot].name)
        print("# " + boottime.measure(args.boot, args.machine, args.smp, args.mem, args.boot_runs,
                                      image=image), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
