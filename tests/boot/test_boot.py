#!/usr/bin/env python3
"""The boot matrix (docs/testing.md): test=boot through our loader,
GRUB/BIOS and GRUB/UEFI on -M pc and q35 with 1 and 4 CPUs, two more memory
sizes, test=mm and test=smp on each boot path, and the panic-report suites
(test=fault, null, nx, rodata, stack_overflow, double_free, lock_recursion,
lock_unheld; panic_smp with 4 CPUs) through our loader and GRUB.
Prints KTAP; exit status 1 on any failure."""

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from harness import BootSpec, qemu  # noqa: E402

BOOT_PATHS = {"img": "kestrel-bios", "iso": "grub-bios", "uefi": "grub-uefi"}

# Measured on the 2-core TCG host, three boots at a time (make test), SMP
# guests: a boot to its exit code takes 0.5-1.6 s through our loader,
# 0.8-2.8 s through GRUB/BIOS, 6-13 s through OVMF on a loaded machine.
# The limits leave a wide margin and stay finite; a kernel that panics and
# halts, or GRUB stuck at its prompt, is cut short anyway.
TIMEOUT = {"img": 30.0, "iso": 30.0, "uefi": 90.0}

# Usable memory the kernel may report for -m SIZE: firmware keeps the low
# 1 MiB holes, ACPI tables and (SeaBIOS) a little at the top; OVMF keeps
# much more (its own runtime code/data, page tables, NVS).
MEM_SLACK_MIB = {"img": 22, "iso": 22, "uefi": 32}

# What each fault-report suite (tests/kernel/fault_tests.c) must print:
# the fault's name, the function that faulted (named in the symbolized
# backtrace after the panic line) and, for page faults, CR2. test=fault's
# address is FAULT_ADDRESS there (above 4 GiB, so the boot identity map
# never covers it); nx and rodata announce theirs before faulting.
FAULT_ADDRESS = 0xDEAD0000000
PAGE_FAULT = r"#PF|Page Fault"
CR2 = r"(?i)\bCR2[=: ]+(0x)?0*{}\b"
FAULT_SUITES = {
    "fault": ((PAGE_FAULT, CR2.format(f"{FAULT_ADDRESS:x}")), "ktest_fault_victim", None),
    "null": ((PAGE_FAULT, CR2.format("0")), "ktest_null_reader", None),
    "nx": ((PAGE_FAULT, r"\bNX\b|instruction fetch"), None, r"heap code at (0x[0-9a-fA-F]+)"),
    "rodata": ((PAGE_FAULT,), "ktest_rodata_writer", r"\.rodata at (0x[0-9a-fA-F]+)"),
    "stack_overflow": ((r"(?i)stack overflow", r"#DF|Double Fault"), "ktest_recurse", None),
    "double_free": ((r"(?i)double free",), "ktest_double_free", None),
    "lock_recursion": ((r"(?i)recursive acquisition",), "ktest_lock_twice", None),
    "lock_unheld": ((r"(?i)not held",), "ktest_unlock_unheld", None),
    "lock_order": ((r"lock order: 'ktest_wq_level'",), "ktest_lock_out_of_order", None),
}
# test=panic_smp: a panic with every CPU online stops all the others, and
# each one reports where it was stopped (docs/cpus.md, panic()).
PANIC_SMP_CPUS = 4
STOPPED_CPU = r"^cpu (\d+) \(APIC id \d+\): stopped by the panic"
# Suites that need more than a boot's time: test=smp tortures locks on
# every CPU (about 11 s through our loader on a loaded 2-core TCG host).
EXTRA_TIME = {"smp": 90.0, "sched": 150.0, "mm": 60.0, "fpu": 30.0, "user": 240.0, "frame_faults": 120.0,
              "fibers": 60.0}
PANIC_LINE = r"^panic: "


def mib(size):
    """'512M' / '3G' / '1024' (MiB) -> MiB."""
    m = re.fullmatch(r"(\d+)([MG]?)", size.upper())
    if not m:
        raise ValueError(f"memory size {size!r}")
    return int(m.group(1)) * (1024 if m.group(2) == "G" else 1)


def mem_check(size, boot):
    hi = mib(size)
    lo = hi - MEM_SLACK_MIB[boot]

    def check(log):
        m = re.search(r"^mem: (\d+) MiB usable\s*$", log, re.M)
        if not m:
            return "no 'mem: N MiB usable' line"
        n = int(m.group(1))
        if not lo <= n <= hi:
            return f"mem: {n} MiB usable, expected {lo}..{hi} for -m {size}"
        return None
    return check


def cmdline_regex(words):
    """The banner's cmdline: line must hold every fw_cfg word, as a word."""
    parts = "".join(rf"(?=.*(?<!\S){re.escape(w)}(?!\S))" for w in words.split())
    return rf"^cmdline: {parts}"


def boot_spec(boot, machine, smp, mem="512M"):
    name = f"boot-{boot}-{machine}-smp{smp}" + ("" if mem == "512M" else f"-{mem}")
    # harness=<name> proves the words reached the kernel through fw_cfg on
    # this very boot; the kernel ignores words it does not know.
    words = f"test=boot harness={name}"
    return BootSpec(
        name=name, boot=boot, smp=smp, mem=mem, machine=machine, cmdline=words,
        timeout=TIMEOUT[boot], expect_status=qemu.EXIT_PASS,
        require=(rf"^Kestrel \S+ \({BOOT_PATHS[boot]}\)",
                 cmdline_regex(words),
                 rf"^smp: {smp} CPUs? online\s*$"),
        forbid=(PANIC_LINE,),
        checks=(mem_check(mem, boot),))


def victim_after_panic(victim):
    def check(log):
        m = re.search(PANIC_LINE, log, re.M)
        if m and not re.search(rf"\b{victim}\b", log[m.start():]):
            return f"'{victim}' not in the backtrace after the panic line"
        return None
    return check


def cr2_is_announced(announce):
    """The suite prints the address it is about to touch; CR2 must equal it."""
    def check(log):
        m = re.search(announce, log)
        if not m:
            return f"no line matching /{announce}/ announcing the address"
        if not re.search(CR2.format(f"{int(m.group(1), 16):x}"), log):
            return f"CR2 is not the announced address {m.group(1)}"
        return None
    return check


def fault_spec(suite, boot):
    require, victim, announce = FAULT_SUITES[suite]
    checks = ((victim_after_panic(victim),) if victim else ()) + \
             ((cr2_is_announced(announce),) if announce else ())
    return BootSpec(
        name=f"{suite}-{boot}", boot=boot, smp=1, cmdline=f"test={suite}",
        timeout=TIMEOUT[boot], expect_status=qemu.EXIT_PANIC, ktap=False,
        require=(rf"^Kestrel \S+ \({BOOT_PATHS[boot]}\)", PANIC_LINE) + require,
        checks=checks)


def others_stopped(ncpus):
    """Every CPU but the panicking one reported, once each."""
    def check(log):
        stopped = re.findall(STOPPED_CPU, log, re.M)
        if sorted(set(stopped)) != sorted(stopped) or len(stopped) != ncpus - 1:
            return f"{len(stopped)} 'cpu N (APIC id M): stopped by the panic' lines " \
                   f"(CPUs {', '.join(stopped) or 'none'}), expected one from each of the other {ncpus - 1}"
        return None
    return check


def panic_smp_spec(boot, machine):
    return BootSpec(
        name=f"panic_smp-{boot}-{machine}-smp{PANIC_SMP_CPUS}", boot=boot, smp=PANIC_SMP_CPUS,
        machine=machine, cmdline="test=panic_smp", timeout=TIMEOUT[boot],
        expect_status=qemu.EXIT_PANIC, ktap=False,
        require=(rf"^panic: .*deliberate panic with {PANIC_SMP_CPUS} CPUs",),
        checks=(victim_after_panic("panic_smp_run"), others_stopped(PANIC_SMP_CPUS)))


def cpu_scale(suite, smp):
    """test=smp's work grows with the CPUs (every CPU tortures the lock, IPIs
    go to every pair), and under TCG N vCPUs share the 2 host cores: a 16-CPU
    boot took 86 s of its old 120 s limit on an otherwise idle host."""
    return max(1, smp // 4) if suite == "smp" else 1


def suite_spec(suite, boot, machine="pc", smp=1, mem="512M", extra=(), tag="", words="",
               accel=None, require=(), checks=()):
    """A KTAP suite other than boot: all ok, exit 33, no panic; with
    test=smp the kernel also checks that exactly `smp` CPUs came online,
    and every boot must report the memory QEMU was given."""
    words = f"test={suite}" + (f" expect_cpus={smp}" if suite == "smp" else "") + \
        (f" {words}" if words else "")
    name = f"{suite}-{boot}-{machine}-smp{smp}" + ("" if mem == "512M" else f"-{mem}") + tag
    return BootSpec(
        name=name, boot=boot, smp=smp, mem=mem, machine=machine, cmdline=words,
        timeout=TIMEOUT[boot] + EXTRA_TIME.get(suite, 0.0) * cpu_scale(suite, smp),
        extra=tuple(extra), accel=accel,
        require=(rf"^smp: {smp} CPUs? online\s*$",) + tuple(require),
        forbid=(PANIC_LINE,), checks=(mem_check(mem, boot),) + tuple(checks))


SLOW_AP_MS = 300


def slow_ap_started_late(log):
    """Every AP reports its start time; with fault_slow_ap_ms each took longer."""
    times = [int(us) for us in re.findall(r"^cpu \d+: APIC id \d+ online \((\d+) us\)", log, re.M)]
    if not times:
        return "no 'cpu N: APIC id M online (T us)' lines"
    if min(times) < SLOW_AP_MS * 1000:
        return f"an AP started in {min(times)} us, before its {SLOW_AP_MS} ms delay ended"
    return None


def fault_injection_specs():
    """The AP start-up's failure paths, which real machines rarely take."""
    return [
        # A CPU in the tables that never answers its SIPI: skipped, the rest online.
        suite_spec("smp", "img", "pc", 4, words="fault_phantom_apic=200", tag="-phantom",
                   require=(r"^smp: fault injection: a phantom CPU with APIC id 200",
                            r"^smp: CPU with APIC id 200 did not start; skipped")),
        # Slow APs within the start-up timeout: online, late.
        suite_spec("smp", "img", "q35", 3, words=f"fault_slow_ap_ms={SLOW_AP_MS}", tag="-slowap",
                   checks=(slow_ap_started_late,)),
        # APs slower than the timeout: each reported, parked, skipped; the
        # kernel runs on the boot CPU.
        suite_spec("smp", "img", "pc", 1, extra=("-smp", "3"), tag="-deadap",
                   words="fault_slow_ap_ms=3000 ap_timeout_us=200000",
                   require=(r"^smp: CPU with APIC id 1 did not start; skipped",
                            r"^smp: CPU with APIC id 2 did not start; skipped")),
        # The APs one at a time (smp_serial, also taken when CPUID and the
        # LAPIC disagree on the APIC id); the other rows start them in parallel.
        suite_spec("smp", "img", "pc", 4, words="smp_serial", tag="-serial",
                   require=(r"^smp: starting 3 APs one at a time, INIT wait \d+ us",)),
        # No page below 1 MiB for the trampoline: the boot CPU runs alone, no panic.
        suite_spec("smp", "img", "pc", 1, extra=("-smp", "4"), tag="-nolowpage",
                   words="fault_no_low_page",
                   require=(r"^smp: no usable page below 1 MiB for the AP trampoline; "
                            r"running on the boot CPU only",)),
        # Every 37th frame allocation fails while programs run: ENOMEM, no
        # panic, every frame and heap object back afterwards.
        suite_spec("frame_faults", "img", "pc", 4, require=(r"^# frame_faults: every 37: ",)),
    ]


def watchdog_spec():
    """test=watchdog: CPU 1 spins with interrupts off; the watchdog must say
    so and CPU 1's own report must show where it is stuck."""
    return BootSpec(
        name="watchdog-img-pc-smp2", boot="img", smp=2, cmdline="test=watchdog watchdog_ms=2000",
        timeout=TIMEOUT["img"] + 30, expect_status=qemu.EXIT_PANIC, ktap=False,
        require=(r"^panic: watchdog: CPU 1 \(APIC id \d+\) has taken no timer tick for \d+ ms",
                 r"^cpu 1 \(APIC id \d+\): stopped by the panic on CPU 0 at ktest_stuck_cpu\b"))


def matrix():
    # Longest first (OVMF), so the pool does not end on one slow boot.
    specs = [suite_spec("smp", "uefi", "q35", 4), suite_spec("smp", "img", "pc", 4),
             suite_spec("smp", "iso", "q35", 4), suite_spec("mm", "uefi", "q35")]
    specs += [boot_spec(b, m, n) for b in ("uefi", "iso", "img")
              for m in ("pc", "q35") for n in (1, 4)]
    specs += [boot_spec("iso", "q35", 2, "3G"),     # RAM above 4 GiB on q35
              boot_spec("img", "pc", 1, "128M"),
              suite_spec("mm", "iso"), suite_spec("mm", "img", "q35"),
              panic_smp_spec("img", "q35"), panic_smp_spec("iso", "pc")]
    specs += [fault_spec(suite, boot) for suite in FAULT_SUITES for boot in ("img", "iso")]
    specs.append(watchdog_spec())
    specs += fault_injection_specs()
    # Scheduler and FPU state (issue: scheduler).
    specs += [suite_spec("sched", "img", "pc", 4),
              suite_spec("fpu", "img", "pc", 2), suite_spec("fpu", "iso", "q35", 1)]
    # Ring 3 (issue: user mode): through our loader and through GRUB/UEFI.
    # The full 10,000-spawn churn once; the slower UEFI boot runs 1,000.
    specs += [suite_spec("user", "img", "pc", 4),
              suite_spec("user", "uefi", "q35", 2, words="churn=1000")]
    # Futexes, user mutexes and condition variables, and M:N fibers on 4
    # CPUs (preempted workers, stealing) and on 1 (a single worker).
    specs += [suite_spec("fibers", "img", "pc", 4), suite_spec("fibers", "img", "pc", 1)]
    # CPU counts, the MP-table path without ACPI (SeaBIOS lists one MP
    # processor entry per socket), and x2APIC.
    specs += [suite_spec("smp", "img", "pc", n) for n in (1, 2, 3, 8, 16)]
    specs += [suite_spec("smp", "img", "pc", 4, extra=("-no-acpi", "-smp", "4,sockets=4"),
                         tag="-noacpi"),
              # No I/O APIC (forced: QEMU always has one): the 8259s on LINT0;
              # every CPU must still tick (test=smp), COM1 input is test_shell.py's.
              suite_spec("smp", "img", "pc", 4, words="noioapic", tag="-noioapic",
                         require=(r"^ioapic: noioapic given; ISA IRQs through the 8259s on "
                                  r"LINT0 \(ExtINT\) of the boot CPU",)),
              suite_spec("smp", "img", "q35", 4, extra=("-cpu", "qemu64,+x2apic"), tag="-x2apic"),
              suite_spec("smp", "iso", "pc", 2, extra=("-cpu", "qemu64,+x2apic"), tag="-x2apic")]
    # A modern CPU under TCG whatever ACCEL says: -cpu max has SMEP, SMAP,
    # UMIP, PCID, 1 GiB pages and TSC-deadline, which qemu64 lacks.
    # The full churn runs above; 1,000 spawns here keep make test short.
    specs += [suite_spec(s, b, m, 4, extra=("-cpu", "max"), tag="-cpumax", accel="tcg",
                         words="churn=1000" if s == "user" else "",
                         require=(r"^cpu: SMEP on, SMAP on, UMIP on\s*$",))
              for s, b, m in (("user", "img", "pc"), ("smp", "img", "q35"), ("smp", "iso", "pc"))]
    # Modern CPU models under TCG (issue 11): Intel family 6 and AMD family
    # 0x17, with CPUID leaves and features qemu64 lacks, and the AP start
    # without the 10 ms INIT wait such CPUs do not need (docs/cpus.md).
    # TCG lacks some of their features; QEMU warns and goes on.
    specs += [suite_spec("smp", "img", m, 4, extra=("-cpu", model), tag=f"-{model.lower()}",
                         accel="tcg", require=(rf"^cpu: {vendor}",
                                               r"^smp: starting 3 APs in parallel, INIT wait 0 us"))
              for model, m, vendor in (("Skylake-Server", "q35", "GenuineIntel"),
                                       ("EPYC", "pc", "AuthenticAMD"))]
    # Memory sizes: every frame allocated, checked and freed (issue: memory).
    specs += [suite_spec("mm", "img", "pc", 1, mem) for mem in ("32M", "128M", "1G")]
    specs += [suite_spec("mm", "iso", "q35", 2, "4G"), suite_spec("mm", "img", "q35", 2, "8G")]
    return specs


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--only", metavar="REGEX", help="run the boots whose name matches")
    p.add_argument("--exclude", metavar="REGEX", help="skip the boots whose name matches")
    p.add_argument("--jobs", type=int, help=f"parallel boots (default {harness.DEFAULT_JOBS})")
    p.add_argument("--list", action="store_true", help="list the boots and exit")
    args = p.parse_args()
    specs = [s for s in matrix() if (not args.only or re.search(args.only, s.name)) and
             (not args.exclude or not re.search(args.exclude, s.name))]
    if args.list:
        for s in specs:
            print(s.name)
        return 0
    return harness.run_suite("boot", specs, args.jobs)


if __name__ == "__main__":
    sys.exit(main())
