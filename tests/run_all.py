#!/usr/bin/env python3
"""`make test`: every host unit-test binary, then the QEMU boot matrix,
the gdb, usb and loader-error tests. Each program prints KTAP; this counts
their results, prints each one's wall time and ends with exactly one line
`N passed, N failed`. Exit status 1 on any failure."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "boot"))
import harness  # noqa: E402
import ktap  # noqa: E402

ROOT = harness.ROOT
BUILD = harness.qemu.BUILD
PY = sys.executable
TERM_GRACE = 10.0           # seconds between SIGTERM and SIGKILL on a timeout

FAIRNESS = r"^(sched|user)-"

# (name, argv, timeout in seconds). Timeouts are for the whole program, far
# above what each takes (see the wall times it prints), and finite.
BOOT_PROGRAMS = [
    ("boot matrix", [PY, "tests/boot/test_boot.py", "--exclude", FAIRNESS], 900),
    # Fairness is measured in timer ticks, which a vCPU thread starved by the
    # host (several QEMUs on 2 cores) does not get: these boots run alone.
    ("fairness suites", [PY, "tests/boot/test_boot.py", "--only", FAIRNESS, "--jobs", "1"], 900),
    ("timers", [PY, "tests/boot/test_timers.py"], 600),
    # 60 s of random system calls on 4 CPUs, then the kernel's own checks
    # (make fuzz runs it longer; make soak for 10 minutes). Alone, like fairness.
    ("fuzz", [PY, "tests/boot/fuzz.py", "--seconds", "60"], 400),
    ("gdb", [PY, "tests/boot/gdb_test.py"], 300),
    ("gdb helpers", [PY, "tests/boot/gdb_helpers_test.py"], 300),
    ("usb", [PY, "tests/boot/test_usb.py"], 120),
    # USB keyboards through xHCI: typing over QMP, and the driver's lines on other shapes.
    ("usb keyboards", [PY, "tests/boot/test_usb_kbd.py"], 300),
    # build/kestrel.img on xHCI/AHCI/NVMe under SeaBIOS and OVMF (6 boots).
    ("stick", [PY, "tests/boot/test_stick.py"], 600),
    ("shell", [PY, "tests/boot/test_shell.py"], 300),
    # The framebuffer console on three boot paths, read back by screendump (~12 s).
    ("screen", [PY, "tests/boot/test_screen.py"], 300),
    # PS/2 keys through QMP on pc and q35, and q35 without an i8042 (3 boots in parallel).
    ("keyboard", [PY, "tests/boot/test_keyboard.py"], 300),
]
LOADER_ERRORS = "tests/boot/loader_errors.py"   # optional, written with the loader
UNIT_TIMEOUT = 120


def programs():
    units = sorted(p for p in (BUILD / "unit").glob("test_*")
                   if p.is_file() and os.access(p, os.X_OK))
    for p in units:
        yield (f"unit {p.name[len('test_'):]}", [str(p)], UNIT_TIMEOUT)
    yield ("unit accel", [PY, "tests/unit/test_accel.py"], UNIT_TIMEOUT)
    yield ("unit mkimage", [PY, "tests/unit/test_mkimage.py"], UNIT_TIMEOUT)
    yield from BOOT_PROGRAMS
    if (ROOT / LOADER_ERRORS).is_file():
        yield ("loader errors", [PY, LOADER_ERRORS], 600)


def run(argv, timeout):
    """Run argv from the tree's root, echoing its output indented as it
    comes; returns (exit status or None on timeout, output)."""
    # Its own process group, so a timeout or Ctrl-C reaches everything it
    # started that could hold our pipe open (the boot programs' QEMUs run in
    # sessions of their own and are killed by the programs' signal handlers).
    proc = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace", bufsize=1,
                            start_new_session=True)
    lines = []
    timer = _Watchdog(proc, time.monotonic() + timeout)
    try:
        for line in proc.stdout:
            lines.append(line)
            print("    " + line, end="", flush=True)
    except KeyboardInterrupt:
        _signal_group(proc, signal.SIGINT)
        raise
    finally:
        timer.cancel()
        status = proc.wait()
    return (None if timer.fired else status), "".join(lines)


def _signal_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


class _Watchdog:
    """SIGTERM at the deadline (the boot programs then kill their QEMUs),
    SIGKILL if it does not end within TERM_GRACE."""

    def __init__(self, proc, deadline):
        self.proc, self.fired = proc, False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, args=(deadline,), daemon=True)
        self._thread.start()

    def _watch(self, deadline):
        if self._done.wait(max(0.0, deadline - time.monotonic())):
            return
        self.fired = True
        _signal_group(self.proc, signal.SIGTERM)
        if not self._done.wait(TERM_GRACE):
            _signal_group(self.proc, signal.SIGKILL)

    def cancel(self):
        self._done.set()


def count(status, output):
    """(passed, failed, notes) from a program's KTAP and exit status."""
    docs = ktap.parse_ktap(output)
    results = [r for d in docs for r in d.results]
    passed = sum(r.ok for r in results)
    failed = len(results) - passed
    notes = []
    planned = sum(d.plan or 0 for d in docs)
    if status is None:
        notes.append("timed out")
    elif status != 0 and failed == 0:
        notes.append(f"exited with status {status} but reported no failing test")
    elif status == 0 and failed:
        notes.append("reported failures but exited 0")
    if not docs:
        notes.append("printed no KTAP")
    elif planned > len(results):
        notes.append(f"planned {planned} tests, reported {len(results)}")
        failed += planned - len(results)
    elif planned < len(results):
        notes.append(f"planned {planned} tests, reported {len(results)}")
    if notes and not failed:
        failed = 1      # the program failed as a whole
    return passed, failed, notes


def accelerator_line():
    """What the boots run on, decided once here (tools/accel.py caches it)."""
    try:
        choice = harness.qemu.choose_accel()
    except harness.qemu.LaunchError as e:
        return f"=== accelerator: none ({e})"
    return f"=== accelerator: {choice.describe()}" + (f" ({choice.note})" if choice.note else "")


def main():
    total_passed = total_failed = 0
    start_all = time.monotonic()
    summary = [accelerator_line()]
    print(summary[0], flush=True)
    for name, argv, timeout in programs():
        print(f"=== {name}: {' '.join(argv)}", flush=True)
        start = time.monotonic()
        try:
            status, output = run(argv, timeout)
        except OSError as e:
            status, output = 127, f"cannot run: {e}\n"
            print("    " + output, end="")
        seconds = time.monotonic() - start
        passed, failed, notes = count(status, output)
        total_passed += passed
        total_failed += failed
        line = f"=== {name}: {passed} passed, {failed} failed, {seconds:.1f} s" + \
               (f" ({'; '.join(notes)})" if notes else "")
        summary.append(line)
        print(line, flush=True)
    print()
    for line in summary:
        print(line)
    print(f"=== total wall time {time.monotonic() - start_all:.1f} s")
    print(f"{total_passed} passed, {total_failed} failed", flush=True)
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main())
