#!/usr/bin/env python3
"""The gdb helpers of tools/gdb/kestrel.py against a live kernel: QEMU with
-smp 4 held at reset (-S), one `gdb -batch` session that runs helpers at
reset, in the loader (0x7c00) and at kernel_main, before the scheduler runs (each must answer in
one line, no Python traceback), stops at an AP's
first C function (kestrel-stop ap) and at sh's main (kestrel-stop user:sh),
then at sh's first read of the console (the shell is up, init sleeps in
wait()) runs kestrel-ps, -cpus, -dmesg, -bt, -user and -locks and checks
each one's output. Prints KTAP; on failure the gdb output and the serial log."""

import re
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from harness import qemu  # noqa: E402
from gdb_test import (GDB, GDB_BROKEN, GDB_SCRIPT, gdb_session, report,  # noqa: E402
                      session_on_free_port)

CPUS = 4
# Reset to the shell's first read takes ~3 s under TCG on an idle host; the
# margin is for a loaded 2-core machine running other QEMUs.
GDB_TIMEOUT = 240.0
MARK = "@@@ "                   # section markers echoed between the commands
MBR = 0x7C00                    # where the BIOS starts our loader (boot/stage1.S), in real mode
SETTLE_TICKS = 500              # 5 s of 100 Hz ticks at most
PROGRAM = "sh"                  # the user program whose main and symbols are checked
SOURCE = f"user/bin/{PROGRAM}.c"
HELPERS = ("kestrel-ps", "kestrel-cpus", "kestrel-dmesg", "kestrel-bt", "kestrel-locks",
           "kestrel-user", "kestrel-stop", "kestrel-attach")

# init spawned sh and then sleeps in wait(); on a loaded host its vCPU may
# lag sh's, so before init is looked at, timer ticks pass until it is
# asleep and switched out (one line of Python for gdb's `python` command).
SETTLE = ("for _ in range(" + str(SETTLE_TICKS) + "):\\n"
          " t = TaskSet().find('init')\\n"
          " if str(t['state']) == 'TASK_SLEEPING' and not bool(t['on_cpu']): break\\n"
          " gdb.execute('tbreak sched_tick'); gdb.execute('continue')")

# The session, one -ex per line. The python lines look tids and pids up
# with kestrel.py's own functions (sourced into gdb's __main__), so
# kestrel-bt and kestrel-user get numbers, as a person would type them
# after reading kestrel-ps.
SCRIPT = f"""
target remote 127.0.0.1:{{port}}
echo {MARK}reset-ps\\n
kestrel-ps
echo {MARK}reset-dmesg\\n
kestrel-dmesg
echo {MARK}reset-locks\\n
kestrel-locks
echo {MARK}to-loader\\n
hbreak *{MBR:#x}
continue
delete
echo {MARK}loader-cpus\\n
kestrel-cpus
echo {MARK}to-kmain\\n
kestrel-stop kernel
continue
delete
echo {MARK}kmain-ps\\n
kestrel-ps
echo {MARK}kmain-bt\\n
kestrel-bt 1
echo {MARK}stop-ap\\n
kestrel-stop ap
continue
delete
echo {MARK}stop-user\\n
kestrel-stop user:{PROGRAM}
continue
info line *$pc
delete
echo {MARK}at-read\\n
tbreak kernel/syscall.c:sys_read
continue
echo {MARK}cpus\\n
kestrel-cpus
echo {MARK}user\\n
python gdb.execute("kestrel-user %d" % int(TaskSet().find("{PROGRAM}")["proc"]["pid"]))
echo {MARK}bt-user\\n
python gdb.execute("kestrel-bt %d" % int(TaskSet().find("{PROGRAM}")["id"]))
info line main
echo {MARK}settle\\n
python exec("{SETTLE}")
echo {MARK}ps\\n
kestrel-ps
echo {MARK}dmesg\\n
kestrel-dmesg
echo {MARK}bt-sleeping\\n
python gdb.execute("kestrel-bt %d" % int(TaskSet().find("init")["id"]))
echo {MARK}locks\\n
tbreak spin_unlock if l->level != 0
continue
kestrel-locks
printf "{MARK}lock-held %s cpu%d\\n", l->name, ((struct cpu *)$gs_base)->id
echo {MARK}help\\n
help kestrel
echo {MARK}end\\n
detach
"""


def sections(out):
    """{marker name: the output up to the next marker}."""
    parts, name = {}, None
    for line in out.splitlines():
        if line.startswith(MARK):
            name = line[len(MARK):].split()[0]
            parts[name] = parts.get(name, "") + line[len(MARK) + len(name):].strip() + "\n"
        elif name:
            parts[name] = parts.get(name, "") + line + "\n"
    return parts


def one_line_refusal(text):
    lines = [l for l in text.splitlines() if l.strip()]
    if len(lines) == 1 and lines[0].startswith("kestrel") and "not" in lines[0]:
        return None
    return f"expected one 'kestrel: ... not ...' line, got {len(lines)} line(s): {lines[:3]}"


def check_reset(s):
    for part in ("reset-ps", "reset-dmesg", "reset-locks", "loader-cpus", "kmain-ps", "kmain-bt"):
        why = one_line_refusal(s.get(part, ""))
        if why:
            return f"{part}: {why}"
    return None


def check_stop_ap(s):
    text = s.get("stop-ap", "")
    m = re.search(r"^Thread (\d+) hit (Hardware assisted )?Breakpoint \d+, ap_entry \(", text, re.M)
    if not m:
        return "no 'Thread N hit Breakpoint, ap_entry (' after kestrel-stop ap"
    return None if m.group(1) != "1" else "ap_entry hit on thread 1 (the boot CPU?)"


def check_stop_user(s):
    text = s.get("stop-user", "")
    if not re.search(rf"^kestrel: '{PROGRAM}' \(pid \d+\) reached main on CPU \d+", text, re.M):
        return f"no 'kestrel: '{PROGRAM}' (pid N) reached main' after kestrel-stop user:{PROGRAM}"
    if not re.search(rf'^Line \d+ of "(\S*/)?{re.escape(SOURCE)}"', text, re.M):
        return f"the stop's $pc has no {SOURCE} line (user programs built without -g?)"
    return None


def ps_row(pid, name):
    return rf"^\s*{pid}\s+\d+\s+\w+\s+\d+\s+{name}\s+{name}\b"


def check_ps(s):
    text = s.get("ps", "")
    missing = [n for n, rx in (("init (pid 1)", ps_row(1, "init")), (PROGRAM, ps_row(r"\d+", PROGRAM)),
                               ("idle/0..3", r"^\s*-\s+-\s+running\s+3\s+idle/3\b"))
               if not re.search(rx, text, re.M)]
    if not re.search(r"^\s*1\s+\d+\s+sleeping\s+\d+\s+init\s+init\s+wait queue 'child_wait' in proc_wait",
                     text, re.M):
        missing.append("init sleeping on 'child_wait' in proc_wait")
    return f"kestrel-ps lacks {missing}" if missing else None


def check_cpus(s):
    text = s.get("cpus", "")
    rows = re.findall(r"^\s*(\d+)\s+(\d+)\s+yes\s+(halted|idle|kernel|user)\s+\S+", text, re.M)
    if sorted(int(r[0]) for r in rows) != list(range(CPUS)):
        return f"kestrel-cpus shows CPUs {[r[0] for r in rows]}, not 0..{CPUS - 1} online"
    if not re.search(rf"^{CPUS} of {CPUS} CPUs online", text, re.M):
        return f"no '{CPUS} of {CPUS} CPUs online'"
    if not re.search(rf"^\s*\d+\s+\d+\s+yes\s+kernel\s+{PROGRAM} \(tid \d+\)", text, re.M):
        return f"no CPU shown running {PROGRAM} in the kernel (it is in sys_read)"
    return None


def check_dmesg(s):
    text = s.get("dmesg", "")
    if not re.search(r"^\[\s*\d+\.\d{6} c0\] Kestrel \S+ \(\S+\) x86_64", text, re.M):
        return "no '[seconds.micros c0] Kestrel <version> (<boot>) x86_64' banner line"
    if not re.search(r"^\[\s*\d+\.\d{6} c\d+\] smp: 4 CPUs online$", text, re.M):
        return "no 'smp: 4 CPUs online' line"
    return None


def check_bt_sleeping(s):
    text = s.get("bt-sleeping", "")
    if not re.search(r"^task \d+ 'init' \(sleeping, switched out", text, re.M):
        return "kestrel-bt of init does not say 'sleeping, switched out'"
    if not re.search(r"^#0\s+0x[0-9a-f]+ in (switch_to|schedule)\b.* at sched/sched.c:\d+", text, re.M):
        return "frame #0 is not switch_to/schedule in sched/sched.c"
    if not re.search(r"^#\d+\s+0x[0-9a-f]+ in proc_wait at sched/proc.c:\d+", text, re.M):
        return "no proc_wait frame"
    return None


def check_user(s):
    text = s.get("user", "") + s.get("bt-user", "")
    if not re.search(rf"^kestrel: symbols of '{PROGRAM}' \(pid \d+\) from \S+/user/bin/{PROGRAM}, "
                     r"loaded at 0x4", text, re.M):
        return "kestrel-user did not report loading the symbols at 0x4....."
    if not re.search(r"^#\d+\s+0x[0-9a-f]+ in sys_read at kernel/syscall.c:\d+", text, re.M):
        return "kestrel-bt of the running sh lacks its sys_read frame"
    if not re.search(rf"^#\d+\s+0x0*4[0-9a-f]+ in main at (\S*/)?{re.escape(SOURCE)}:\d+ \[user\]",
                     text, re.M):
        return (f"no user frame 'main at {SOURCE}:N [user]' in kestrel-bt after kestrel-user "
                f"(user programs built without -g?)")
    if not re.search(rf'^Line \d+ of "(\S*/)?{re.escape(SOURCE)}"', text, re.M):
        return f"`info line main` gives no {SOURCE} line"
    return None


def check_locks(s):
    text = s.get("locks", "")
    held = re.match(r"(\S+) cpu(\d+)$", s.get("lock-held", "").strip())
    if not held:
        return "the spin_unlock stop did not print the lock it releases"
    name, cpu = held.groups()
    if not re.search(rf"^0x[0-9a-f]+\s+{re.escape(name)}\s+cpu{cpu}\s+\S+.*\bheld\[{cpu}\]", text, re.M):
        return f"kestrel-locks does not list '{name}' held by cpu{cpu} (found via held[{cpu}])"
    if not re.search(rf"lock_depth .*\bcpu{cpu} [1-9]", text):
        return f"lock_depth of cpu{cpu} is not at least 1"
    return None


def check_help(s):
    text = s.get("help", "")
    missing = [h for h in HELPERS if h not in text]
    missing += [f"kestrel {h[len('kestrel-'):]}" for h in HELPERS
                if not re.search(rf"^kestrel {h[len('kestrel-'):]} -- ", text, re.M)]
    return f"help kestrel lacks {missing}" if missing else None


CHECKS = (("gdb-helpers-before-the-kernel-is-up", check_reset), ("gdb-stop-ap", check_stop_ap),
          ("gdb-stop-user-main", check_stop_user), ("gdb-kestrel-ps", check_ps),
          ("gdb-kestrel-cpus", check_cpus), ("gdb-kestrel-dmesg", check_dmesg),
          ("gdb-kestrel-bt-sleeping", check_bt_sleeping), ("gdb-kestrel-user", check_user),
          ("gdb-kestrel-locks", check_locks), ("gdb-help-kestrel", check_help))


def run_once(elf, workdir, port):
    """One QEMU + gdb session; returns (gdb output, QEMU status or None, QEMU stderr)."""
    argv = qemu.build_argv("img", CPUS, "512M", "pc", serial=str(Path(workdir) / "serial.log"),
                           gdb_port=port, stopped=True, workdir=workdir, image=harness.image_for("img"))
    # -ex, not a sourced file: an error ends a sourced file, and the reset
    # helpers must fail without ending the session.
    gdb_argv = [GDB, "-batch", "-nx", "-q", str(elf), "-x", str(GDB_SCRIPT)]
    for line in SCRIPT.format(port=port).strip().splitlines():
        gdb_argv += ["-ex", line]
    (Path(workdir) / "gdb.cmd").write_text(shlex.join(gdb_argv) + "\n")
    return gdb_session(argv, gdb_argv, workdir, GDB_TIMEOUT)


def main():
    harness.install_signal_handlers()
    rep = harness.Reporter(len(CHECKS), "gdb_helpers")
    # The kernel ELF stays where it was built: kestrel-user finds the user
    # programs next to it (<build>/user/bin), so no snapshot copy here.
    elf = qemu.BUILD / "kestrel.elf"
    missing = [str(p) for p in (elf, qemu.BUILD / "user" / "bin" / PROGRAM) if not p.is_file()]
    missing += [] if harness.image_for("img") else [str(qemu.IMAGES["img"])]
    missing += [] if shutil.which(GDB) else [GDB]
    if missing:
        for name, _ in CHECKS:
            rep.result(name, False, 0.0, f"missing {', '.join(missing)} (run: make, bash tools/setup.sh)")
        return rep.finish()

    workdir = tempfile.mkdtemp(prefix="kestrel-gdbhelpers-")
    start = time.monotonic()
    out, status, stderr = session_on_free_port(lambda port: run_once(elf, workdir, port))
    seconds = time.monotonic() - start
    s = sections(out)
    broken = re.search(GDB_BROKEN + r"|Traceback \(most recent call last\)|Python Exception", out)
    results = [(name, f"gdb error: {broken.group(0)}" if broken else fn(s)) for name, fn in CHECKS]
    return report(rep, results, seconds, out, status, stderr, workdir)


if __name__ == "__main__":
    sys.exit(main())
