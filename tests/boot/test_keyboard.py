#!/usr/bin/env python3
"""The PS/2 keyboard (i8042) driving the shell, the way a person would
type: boot the raw image to `kestrel> `, press keys on QEMU's PS/2
keyboard through QMP send-key, and check the answers on COM1.

On -M pc and -M q35: the driver's line names the keyboard; a command with
Backspace, Shift (upper case and symbols) and Caps Lock runs with exactly
the arguments typed; Ctrl-C abandons a line at the prompt and ends a
running `run spin`; `halt` typed on the keyboard powers off; QEMU's trace
of the keyboard's LED byte shows Num Lock lit, then Caps Lock on and off. On
-M q35,i8042=off: one line says there is no PS/2 controller, and the
shell still answers on COM1. The boots run in parallel. Prints KTAP; a
failed boot's serial log follows as `# ` lines."""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
import qmp  # noqa: E402
from harness import qemu  # noqa: E402
from test_shell import Console  # noqa: E402

BOOT_TIMEOUT = 90.0 * harness.TIMEOUT_SCALE      # to the prompt (init's workers first)
ANSWER_TIMEOUT = 30.0 * harness.TIMEOUT_SCALE
QMP_TIMEOUT = 10.0 * harness.TIMEOUT_SCALE
PROMPT = "kestrel> "
CTRL_C_RETRY_S = 2.0    # a Ctrl-C before sh made spin the foreground is just input

FOUND = r"^i8042: PS/2 keyboard on port 1, scan code set 2 translated to set 1, IRQ 1 \("
ABSENT = r"^i8042: no PS/2 controller \("

# Typed as key presses: "run hellx", Backspace, then the rest; CAPS toggles Caps Lock.
TYPED = ["run hellx", ["backspace"], "o 7 Hello-PS2! <a_b|c:d>", ["caps_lock"], "caps",
         ["caps_lock"], " {x}\n"]
HELLO = (r'^hello from pid \d+: argv\[0\]="hello" argv\[1\]="7" argv\[2\]="Hello-PS2!" '
         r'argv\[3\]="<a_b\|c:d>CAPS" argv\[4\]="\{x\}"$')
HELLO_EXIT = r"^hello exited with status 7$"
SPIN = "run spin 600000\n"
# QEMU's trace of the keyboard's LED byte (bit 1 Num Lock, bit 2 Caps Lock):
# Num Lock lit at start, Caps Lock on and off again by the typed command.
LED_TRACE = "ps2_set_ledstate"
LED_STATE = re.compile(r"^ps2_set_ledstate \S+ ledstate (\d+)$", re.M)
LEDS_WANT = [2, 6, 2]
INTERRUPTED = r"^spin killed: interrupted \(Ctrl-C\)$"

# (name, boot path, machine, extra QEMU arguments, keyboard expected, CPUs)
BOOTS = [
    ("pc", "img", "pc", [], True, 2),
    ("q35", "img", "q35", [], True, 2),
    ("q35-i8042-off", "img", "q35", ["-machine", "i8042=off"], False, 1),
]
# With --all: the keyboard after GRUB (which used it) on BIOS and on UEFI;
# not in make test, to keep it short (OVMF alone takes ~20 s under TCG).
EXTRA_BOOTS = [
    ("iso-pc", "iso", "pc", [], True, 2),
    ("uefi-q35", "uefi", "q35", [], True, 2),
]


class Boot:
    """One QEMU with COM1 on a pipe and QMP on a socket; results as (name, reason or None)."""

    def __init__(self, name, boot, machine, extra, keyboard, smp):
        self.name, self.boot, self.machine, self.extra, self.keyboard, self.smp = \
            name, boot, machine, extra, keyboard, smp
        self.results = []
        self.con = None
        self.argv = []
        self.workdir = Path(tempfile.mkdtemp(prefix=f"kestrel-kbd-{name}-"))

    def result(self, case, why=None):
        self.results.append((f"{self.name}: {case}", why))
        return why is None

    def keys(self, q, seq):
        for part in seq:
            if isinstance(part, list):
                q.send_key(part)
            else:
                q.type_text(part)

    def until_prompt(self, start):
        return self.con.read_until(re.escape(PROMPT), ANSWER_TIMEOUT, start)

    def run(self):
        sock = self.workdir / "qmp.sock"
        self.trace = self.workdir / "leds.trace"
        trace = ["-trace", f"enable={LED_TRACE},file={self.trace}"] if self.keyboard else []
        self.argv = qemu.build_argv(self.boot, self.smp, "256M", self.machine,
                                    image=harness.image_for(self.boot), workdir=self.workdir,
                                    extra=self.extra + qmp.qmp_args(sock) + trace)
        proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.con = Console(proc)
        try:
            with qmp.connect(sock, QMP_TIMEOUT) as q:
                self.script(q, proc)
        except (qmp.QMPError, OSError) as e:
            self.result("qmp", f"{type(e).__name__}: {e}")
        except Exception as e:  # noqa: BLE001  a bug here must fail the boot, not vanish
            self.result("test program", f"{type(e).__name__}: {e}")
        finally:
            harness.kill_qemu(proc)

    def script(self, q, proc):
        con = self.con
        if not self.result("prompt", None if con.read_until(re.escape(PROMPT), BOOT_TIMEOUT)
                           else f"no '{PROMPT}' within {BOOT_TIMEOUT:.0f} s"):
            return
        line = FOUND if self.keyboard else ABSENT
        self.result("i8042 line", None if re.search(line, con.log, re.M) else f"no /{line}/")
        if not self.keyboard:
            self.serial_still_works(proc)
            return
        # Backspace, Shift, Caps Lock: hello prints the arguments it got.
        start = len(con.log)
        self.keys(q, TYPED)
        end = self.until_prompt(start)
        answer = con.log[start:end.start() if end else len(con.log)]
        missing = [w for w in (HELLO, HELLO_EXIT) if not re.search(w, answer, re.M)]
        self.result("typed command", f"missing {missing} in {answer!r}" if missing or not end
                    else None)
        # Ctrl-C at the prompt abandons the line.
        start = len(con.log)
        q.type_text("frobnicate")
        q.send_key(["ctrl", "c"])
        end = self.until_prompt(start)
        answer = con.log[start:end.start() if end else len(con.log)]
        self.result("ctrl-c abandons the line",
                    None if end and "^C" in answer and "unknown command" not in answer
                    else f"answer {answer!r}")
        # Ctrl-C ends the program the shell runs.
        start = len(con.log)
        q.type_text(SPIN)
        deadline = time.monotonic() + ANSWER_TIMEOUT
        killed = None
        while not killed and time.monotonic() < deadline:
            q.send_key(["ctrl", "c"])
            killed = con.read_until(INTERRUPTED, CTRL_C_RETRY_S, start)
        back = killed and self.until_prompt(killed.end())
        self.result("ctrl-c ends run spin",
                    None if back else f"no /{INTERRUPTED}/ and prompt" if not killed
                    else "no prompt after the kill")
        # Ctrl-Cs typed before spin was the foreground reach readline as ^C lines.
        con.read_until(r"(?!)", 1.0)
        q.type_text("halt\n")
        self.halted(proc)
        # Read once QEMU has exited, so its trace file is complete.
        self.result("caps lock led", self.leds_problem())

    def leds_problem(self):
        """None if the keyboard's LEDs went through LEDS_WANT, in order, after our reset."""
        try:
            states = [int(v) for v in LED_STATE.findall(self.trace.read_text())]
        except OSError as e:
            return f"no LED trace: {e}"
        # Firmware and our reset write 0 first; the kernel's states follow.
        ours = states[next((i for i, v in enumerate(states) if v), len(states)):]
        return None if ours[:len(LEDS_WANT)] == LEDS_WANT else \
            f"LED states {states}, want {LEDS_WANT} after the zeros"

    def serial_still_works(self, proc):
        start = len(self.con.log)
        self.con.type("cpus")
        end = self.until_prompt(start)
        answer = self.con.log[start:end.start() if end else len(self.con.log)]
        self.result("serial input", None if re.search(rf"^cpus: {self.smp} online", answer, re.M)
                    else f"answer {answer!r}")
        self.con.type("halt")
        self.halted(proc)

    def halted(self, proc):
        try:
            status = proc.wait(timeout=ANSWER_TIMEOUT)
        except subprocess.TimeoutExpired:
            status = None
        self.con.read_until(r"(?!)", 0.5)
        ok = status in (0, qemu.EXIT_PASS) and "powering off" in self.con.log
        self.result("halt", None if ok else f"QEMU status {status}")

    def failed(self):
        return any(why for _, why in self.results)

    def report(self):
        print(f"# ---- {self.name}: {' '.join(self.argv)}")
        log = self.con.log if self.con else ""
        for line in log.splitlines()[-harness.LOG_TAIL_LINES:]:
            print("# " + line)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", metavar="REGEX", help="boots whose name matches")
    p.add_argument("--all", action="store_true",
                   help=f"also {', '.join(b[0] for b in EXTRA_BOOTS)}")
    args = p.parse_args()
    harness.install_signal_handlers()
    boots = [Boot(*b) for b in BOOTS + (EXTRA_BOOTS if args.all else [])
             if not args.only or re.search(args.only, b[0])]
    if not boots:
        print("# no boot matches", file=sys.stderr)
        return 2
    print(f"# accelerator: {qemu.describe_argv(qemu.build_argv('img', image=harness.image_for('img')))}",
          flush=True)
    t0 = time.monotonic()
    threads = [threading.Thread(target=b.run) for b in boots]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results = [r for b in boots for r in b.results]
    print("KTAP version 1\n# suite: keyboard")
    print(f"1..{len(results)}")
    for i, (name, why) in enumerate(results, 1):
        print(f"ok {i} {name}" if why is None else f"not ok {i} {name} # {why}")
    for b in boots:
        if b.failed():
            b.report()
        else:
            shutil.rmtree(b.workdir, ignore_errors=True)
    failed = sum(1 for _, why in results if why)
    print(f"# keyboard: {len(results) - failed} passed, {failed} failed, "
          f"{time.monotonic() - t0:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
