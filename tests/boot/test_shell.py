#!/usr/bin/env python3
"""The shell on the serial console, driven the way a person would: boot
our image with -smp 4, wait for init's workers and the `kestrel> ` prompt,
type commands on COM1 and check the answers (cpus, ps, run, dmesg, an
unknown command), line editing (cursor-key escape sequences swallowed,
Ctrl-C abandoning the line, Ctrl-C ending a running program), then `halt`;
then again, shorter, with `noioapic` (COM1 through the 8259 on LINT0).
Prints KTAP; on failure the serial log."""

import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from harness import qemu  # noqa: E402

CPUS = 4
BOOT_TIMEOUT = 120.0 * harness.TIMEOUT_SCALE     # boot + the workers' ~2 s of work
ANSWER_TIMEOUT = 30.0 * harness.TIMEOUT_SCALE
PROMPT = "kestrel> "

# (command typed, regexes its answer must match before the next prompt)
STEPS = [
    ("cpus", [rf"^cpus: {CPUS} online"]),
    ("ps", [r"PID\s+PPID\s+THR", r"^\s*1\s+0\s+\d+\s+\S+\s+\d+\s+\S+\s+init\s*$",
            r"^\s*\d+\s+1\s+\d+\s+\S+\s+\d+\s+\S+\s+sh\s*$"]),
    ("run hello 5", [r"hello exited with status 5"]),
    ("run faulter ud2", [r"killed: #UD"]),
    # The kernel log (SYS_dmesg): kprintf lines since boot, each with its
    # time and CPU, the fault report just printed included; user programs'
    # output (hello's greeting) is not in it.
    ("dmesg", [r"^\[\s*\d+\.\d{6} c0\] Kestrel \S+ \(\S+\) x86_64",
               rf"^\[\s*\d+\.\d{{6}} c0\] smp: {CPUS} CPUs online$",
               r"^\[\s*\d+\.\d{6} c\d+\] kestrel: started 'init' as pid 1$",
               r"^\[\s*\d+\.\d{6} c\d+\] kestrel: process 'faulter' \(pid \d+\) killed: #UD"]),
    ("frobnicate", [r"unknown command 'frobnicate'"]),
    ("mem", [r"^mem: \d+ MiB total, \d+ MiB free"]),
]
# Regexes an answer must not match.
FORBID = {"dmesg": [r"hello from pid"]}
# Editing: (name, bytes typed without the final CR, CR or not, wants, forbids).
# Cursor keys (ESC [ A, ESC [ D) are swallowed whole, so "help" remains;
# Ctrl-C abandons the line (readline echoes ^C, nothing runs).
EDITS = [
    ("cursor keys swallowed", "\x1b[Ahel\x1b[Dp", True, [r"^  help\s+this list"], [r"\[A|\[D"]),
    ("ctrl-c abandons the line", "frobnicate\x03", False, [r"\^C"], [r"unknown command"]),
]
# A program ended by Ctrl-C (SYS_setfg): it would spin for ten minutes.
INTERRUPT_CMD = "run spin 600000"
INTERRUPTED = r"^spin killed: interrupted \(Ctrl-C\)$"
CTRL_C_RETRY_S = 2.0      # a Ctrl-C before sh made spin the foreground is just input


class Console:
    def __init__(self, proc):
        self.proc = proc
        self.log = ""

    def read_until(self, pattern, timeout, start=0):
        """Read until pattern matches the log from offset start on."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.compile(pattern, re.M).search(self.log, start)
            if m:
                return m
            r, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                self.log += chunk.decode("utf-8", errors="replace").replace("\r", "")
        return None

    def type(self, line, end="\r"):
        self.proc.stdin.write((line + end).encode())
        self.proc.stdin.flush()

    def answer(self, text, end="\r"):
        """Type text; what comes between it and the next prompt (None: no prompt)."""
        start = len(self.log)
        self.type(text, end)
        m = self.read_until(re.escape(PROMPT), ANSWER_TIMEOUT, start)
        return self.log[start:m.start()] if m else None


def interrupt(con, cmd, done, timeout):
    """Type cmd, then Ctrl-C until the line `done` appears; True if it did."""
    start = len(con.log)
    con.type(cmd)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        con.type("\x03", end="")
        if con.read_until(done, CTRL_C_RETRY_S, start):
            return True
    return False


# The second, shorter session: no I/O APIC (`noioapic`), so COM1's IRQ 4
# comes through the 8259 on the boot CPU's LINT0: typed input and the
# timer-driven scheduler must work the same.
NOIOAPIC_WORDS = "noioapic"
NOIOAPIC_STEPS = [
    ("cpus", [rf"^cpus: {CPUS} online"]),
    ("run hello 5", [r"hello exited with status 5"]),
    ("dmesg", [r"\] ioapic: noioapic given; ISA IRQs through the 8259s on LINT0"]),
]


def session(tag, words, steps, edits, n):
    """Boots, waits for the prompt, runs steps (then, with edits, the line
    editing and Ctrl-C cases), halts; prints KTAP results numbered from
    n + 1. Returns (results printed, failures)."""
    argv = qemu.build_argv("img", CPUS, "512M", "pc", words,
                           image=harness.image_for("img"))
    if n == 0:
        print(f"# accelerator: {qemu.describe_argv(argv)}", flush=True)
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    con, failed, start_n = Console(proc), 0, n
    try:
        n += 1
        if con.read_until(re.escape(PROMPT), BOOT_TIMEOUT):
            print(f"ok {n} {tag}prompt")
        else:
            print(f"not ok {n} {tag}prompt # no '{PROMPT}' within {BOOT_TIMEOUT:.0f} s")
            failed += 1
        for cmd, wants in steps:
            n += 1
            start = len(con.log)
            con.type(cmd)
            # The answer is what comes between the typed command and the next prompt.
            end = con.read_until(re.escape(PROMPT), ANSWER_TIMEOUT, start)
            answer = con.log[start:end.start()] if end else con.log[start:]
            missing = [w for w in wants if not re.search(w, answer, re.M)]
            missing += [f"not {w}" for w in FORBID.get(cmd, []) if re.search(w, answer, re.M)]
            if end and not missing:
                print(f"ok {n} {tag}{cmd}")
            else:
                print(f"not ok {n} {tag}{cmd} # missing {missing or 'the next prompt'}")
                failed += 1
        if edits:
            for name, text, cr, wants, forbids in edits:
                n += 1
                answer = con.answer(text, "\r" if cr else "")
                bad = [w for w in wants if answer is None or not re.search(w, answer, re.M)]
                bad += [f"not {w}" for w in forbids if answer and re.search(w, answer, re.M)]
                if answer is not None and not bad:
                    print(f"ok {n} {tag}{name}")
                else:
                    print(f"not ok {n} {tag}{name} # missing {bad or 'the next prompt'}")
                    failed += 1
            n += 1
            if interrupt(con, INTERRUPT_CMD, INTERRUPTED, ANSWER_TIMEOUT):
                print(f"ok {n} {tag}ctrl-c ends '{INTERRUPT_CMD}'")
            else:
                print(f"not ok {n} {tag}ctrl-c ends '{INTERRUPT_CMD}' # no '{INTERRUPTED}'")
                failed += 1
            # Ctrl-Cs typed before spin was the foreground reach readline as ^C lines.
            con.read_until(r"(?!)", 1.0)
        n += 1
        con.type("halt")
        try:
            status = proc.wait(timeout=ANSWER_TIMEOUT)
        except subprocess.TimeoutExpired:
            status = None
        con.read_until(r"(?!)", 1.0)      # drain what QEMU wrote before it exited
        # ACPI power-off ends QEMU with status 0; without it, the debug-exit port gives 33.
        if status in (0, qemu.EXIT_PASS) and "powering off" in con.log \
                and "power off failed" not in con.log:
            print(f"ok {n} {tag}halt (QEMU status {status})")
        else:
            print(f"not ok {n} {tag}halt # QEMU status {status}")
            failed += 1
    finally:
        harness.kill_qemu(proc)
    if failed:
        print(f"# ---- serial log{' (' + words + ')' if words else ''} ----")
        for line in con.log.splitlines()[-harness.LOG_TAIL_LINES:]:
            print("# " + line)
    return n - start_n, failed


def main():
    print("KTAP version 1\n# suite: shell")
    print(f"1..{len(STEPS) + len(EDITS) + 3 + len(NOIOAPIC_STEPS) + 2}")
    n, failed = session("", "", STEPS, EDITS, 0)
    n2, failed2 = session(f"{NOIOAPIC_WORDS}: ", NOIOAPIC_WORDS, NOIOAPIC_STEPS, (), n)
    n, failed = n + n2, failed + failed2
    print(f"# shell: {n - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
