#!/usr/bin/env python3
"""Time sources (docs/cpus.md, "Time: TSC and LAPIC timer"): the TSC rate
from CPUID 0x15, the HPET, the ACPI PM timer or the PIT, on machines that
lack some of them (-M ...,pit=off / hpet=off), with clocksource= forcing
each, and on other CPU models. Every boot must bring all CPUs online, name
the expected source on its `time: TSC ... MHz (<source>...)` line, and
report a TSC rate within TOLERANCE of the reference measured in this run.

The reference is the first boot, run alone before the others: -M pc with
clocksource=pit, the PIT-calibrated rate the kernel always used. Why it is
an honest one: under TCG the guest TSC is the host's TSC and every emulated
timer (PIT, HPET, PM timer) runs on QEMU's virtual clock, the host's
monotonic clock, so all calibrations must give one rate; a source that is
missing or misread (the pit=off bug measured 0.122 MHz) lands far outside
1%. A value from /proc/cpuinfo is not used: "cpu MHz" is the current core
clock on bare metal, not the TSC rate. Prints KTAP; exit status 1 on any failure."""

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from harness import BootSpec  # noqa: E402

SMP = 4
TOLERANCE = 0.01            # the bound: within 1% of the reference
# Boot to exit through our loader (about 10 s under TCG for test=smp with
# 4 CPUs on a loaded 2-core host) plus test_boot.py's margin for test=smp;
# test=sched as in test_boot.py's EXTRA_TIME.
TIMEOUT = {"smp": 120.0, "sched": 180.0}
# An AP reports in within ~10-20 ms under TCG; the bug took 3.5-16 s.
# Far above the first, far below the second.
AP_MAX_US = 1000000
TICK_HZ = 100               # the kernel's default hz=

TIME_LINE = re.compile(r"^time: TSC (\d+)\.(\d{3}) MHz \(([^,)]+)(?:, one \d+ ms window)?\)\s*$", re.M)
FEATURE_LINE = re.compile(r"^time: invariant TSC (yes|no), TSC-deadline timer (yes|no)\s*$", re.M)
LAPIC_LINE = re.compile(r"^lapic: timer (\d+) Hz \(([^)]*)\), tick (\d+) Hz\s*$", re.M)
AP_LINE = re.compile(r"^cpu (\d+): APIC id \d+ online \((\d+) us\)\s*$", re.M)
CPUID_REFUSED = re.compile(r"^time: CPUID: ", re.M)
PANIC_LINE = r"^panic: "

HPET, PMTIMER, PIT, CPUID = "HPET", "ACPI PM timer", "PIT channel 2", "CPUID 0x15"

# Measured in this run by the reference boot, before the others check.
reference = {}


def tsc_hz(log):
    m = TIME_LINE.search(log)
    return (int(m.group(1)) * 1000000 + int(m.group(2)) * 1000, m.group(3)) if m else (None, None)


def within(value, ref):
    return abs(value - ref) <= TOLERANCE * ref


def source_check(expected):
    """The time: line names `expected`, unless the CPU stated its rate
    (no 'time: CPUID:' refusal line), which every automatic choice prefers."""
    def check(log):
        hz, source = tsc_hz(log)
        if hz is None:
            return "no 'time: TSC <MHz> MHz (<source>...)' line"
        want = expected
        if expected != PIT and not CPUID_REFUSED.search(log) and "clocksource=" not in log:
            want = CPUID
        if source != want:
            return f"time source {source!r}, expected {want!r}"
        return None
    return check


def rate_check(log):
    """TSC rate within TOLERANCE of the reference, and the LAPIC line
    consistent: TSC-deadline exactly when the CPU offers it, a periodic
    rate within TOLERANCE of the reference's, measured against the same
    source the time: line names."""
    hz, source = tsc_hz(log)
    if hz is None:
        return "no TSC rate to compare"
    if "tsc" not in reference:
        return "the reference boot gave no TSC rate to compare with"
    if not within(hz, reference["tsc"]):
        return f"TSC {hz / 1e6:.3f} MHz is not within {TOLERANCE:.0%} of the reference " \
               f"{reference['tsc'] / 1e6:.3f} MHz (clocksource=pit, -M pc)"
    feat, lapic = FEATURE_LINE.search(log), LAPIC_LINE.search(log)
    if not feat or not lapic:
        return "no 'time: invariant TSC ..., TSC-deadline timer ...' or 'lapic: timer' line"
    timer_hz, how, tick = int(lapic.group(1)), lapic.group(2), int(lapic.group(3))
    if tick != TICK_HZ:
        return f"tick {tick} Hz, expected {TICK_HZ}"
    if feat.group(2) == "yes":
        if how != f"TSC-deadline, TSC from {source}" or not within(timer_hz, hz):
            return f"CPU has TSC-deadline but the timer is '{how}' at {timer_hz} Hz"
        return None
    if how.startswith("periodic, CPUID 0x15"):
        return None if source == CPUID else f"'{how}' although the TSC source is {source}"
    if how != f"periodic, against the TSC from the {source}":
        return f"LAPIC timer '{how}', expected periodic, against the TSC from the {source}"
    if "lapic" in reference and not within(timer_hz, reference["lapic"]):
        return f"LAPIC timer {timer_hz} Hz not within {TOLERANCE:.0%} of the reference's " \
               f"{reference['lapic']} Hz"
    return None


def record_reference(log):
    """The reference boot's check: keeps its rates for every later boot."""
    hz, _ = tsc_hz(log)
    lapic = LAPIC_LINE.search(log)
    if not hz:
        return "the reference boot printed no TSC rate"
    reference["tsc"] = hz
    if lapic and lapic.group(2).startswith("periodic"):
        reference["lapic"] = int(lapic.group(1))
    return None


def ap_check(log):
    """Every AP came up quickly (the bug: 3.5-16 s, or reported dead)."""
    aps = AP_LINE.findall(log)
    if len(aps) != SMP - 1:
        return f"{len(aps)} 'cpu N: APIC id M online (T us)' lines, expected {SMP - 1}"
    slow = [f"cpu {c} {us} us" for c, us in aps if int(us) > AP_MAX_US]
    return f"APs slower than {AP_MAX_US} us: {', '.join(slow)}" if slow else None


def spec(name, machine, source, words="", extra=(), suite="smp", require=(), accel=None,
         reference_boot=False):
    cmdline = f"test={suite}" + (f" expect_cpus={SMP}" if suite == "smp" else "") + \
        f" harness=timers-{name}" + (f" {words}" if words else "")
    return BootSpec(
        name=f"timers-{name}", boot="img", smp=SMP, machine=machine, cmdline=cmdline,
        timeout=TIMEOUT[suite], extra=tuple(extra), accel=accel,
        require=(rf"^smp: {SMP} CPUs online\s*$",) + tuple(require),
        forbid=(PANIC_LINE, r"^smp: CPU with APIC id \d+ did not start"),
        checks=(source_check(source),) + ((record_reference,) if reference_boot else ()) +
        (rate_check, ap_check))


REFERENCE = spec("pc-pit-reference", "pc", PIT, "clocksource=pit", reference_boot=True)


def rows():
    q35 = "q35"
    return [
        spec("q35-default", q35, HPET),
        spec("q35-pit-off", q35, HPET, extra=("-M", "q35,pit=off")),
        spec("q35-hpet-off", q35, PMTIMER, extra=("-M", "q35,hpet=off"),
             require=(r"^time: HPET: no ACPI HPET table",)),
        spec("q35-pit-off-hpet-off", q35, PMTIMER, extra=("-M", "q35,pit=off,hpet=off")),
        # A forced PIT that is not there: seen as not counting, never waited on.
        spec("q35-pit-off-hpet-off-forced-pit", q35, PMTIMER, "clocksource=pit",
             extra=("-M", "q35,pit=off,hpet=off"),
             require=(r"^time: PIT channel 2 does not count",
                      r"^time: clocksource=pit unusable; trying the others")),
        spec("pc-hpet", "pc", HPET, "clocksource=hpet"),
        spec("pc-pmtimer", "pc", PMTIMER, "clocksource=pmtimer"),
        # QEMU 7.2's TCG offers neither TSC-deadline nor CPUID 0x15 values
        # (it warns and drops tsc-deadline; level=0x16 gives leaf 0x15 of
        # zeros): forced cpuid must be refused with its reason and the
        # LAPIC must stay periodic. Under a working KVM (ACCEL=auto) the
        # -cpu max row runs the TSC-deadline path, which rate_check checks.
        spec("q35-skylake-forced-cpuid", q35, HPET, "clocksource=cpuid",
             extra=("-cpu", "Skylake-Server,level=0x16"), accel="tcg",
             require=(r"^time: CPUID: leaf 0x15 does not enumerate the TSC/crystal ratio "
                      r"\(max leaf 0x16\)",)),
        spec("q35-epyc", q35, HPET, extra=("-cpu", "EPYC"), accel="tcg",
             require=(r"^time: CPUID: leaf 0x15 not implemented",)),
        spec("q35-cpumax", q35, HPET, extra=("-cpu", "max")),
        spec("pc-bogus-word", "pc", HPET, "clocksource=tsc",
             require=(r"^time: unknown clocksource=tsc",)),
    ]


# The scheduler's tick-based fairness and latency checks on the machine
# with the fewest sources; alone, as run_all.py runs the fairness suites.
SCHED = spec("q35-pit-off-hpet-off-sched", "q35", PMTIMER, extra=("-M", "q35,pit=off,hpet=off"),
             suite="sched")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--only", metavar="REGEX", help="run the boots whose name matches "
                   "(the reference always runs)")
    p.add_argument("--jobs", type=int, help=f"parallel boots (default {harness.DEFAULT_JOBS})")
    p.add_argument("--list", action="store_true", help="list the boots and exit")
    args = p.parse_args()
    parallel = [s for s in rows() if not args.only or re.search(args.only, s.name)]
    alone = [s for s in (SCHED,) if not args.only or re.search(args.only, s.name)]
    if args.list:
        for s in [REFERENCE] + parallel + alone:
            print(s.name)
        return 0
    harness.install_signal_handlers()
    rep = harness.Reporter(1 + len(parallel) + len(alone), "timers")
    ref = harness.run_boot(REFERENCE)
    harness.diag(f"reference: TSC {reference.get('tsc', 0) / 1e6:.3f} MHz, LAPIC timer "
                 f"{reference.get('lapic', 'n/a')} Hz ({REFERENCE.name})")
    rep.boot(ref)
    for result in harness.run_many(parallel, args.jobs):
        rep.boot(result)
    for result in harness.run_many(alone, 1):
        rep.boot(result)
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main())
