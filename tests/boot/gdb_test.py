#!/usr/bin/env python3
"""Source-level debugging works: QEMU (our loader, held at reset with -S)
plus gdb with tools/gdb/kestrel.gdb stops at kernel_main and shows its
name, a kernel/main.c source line and a backtrace. Prints KTAP."""

import argparse
import os
import re
import socket
import subprocess
import sys
import shutil
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from harness import qemu  # noqa: E402

GDB = os.environ.get("GDB", "gdb")
GDB_SCRIPT = qemu.ROOT / "tools" / "gdb" / "kestrel.gdb"
MAIN_C = "kernel/main.c"
GDB_TIMEOUT = 120.0         # reset -> kernel_main under TCG takes ~1 s
PORT_ATTEMPTS = 3           # another program may grab the free port first

# gdb's own complaints that mean the 16/32/64-bit register mix-up is back.
GDB_BROKEN = r"'g' packet reply is too long|Remote 'g' packet|Truncated register|Cannot insert breakpoint"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gdb_argv(elf, port):
    return [GDB, "-batch", "-nx", "-q", str(elf), "-x", str(GDB_SCRIPT),
            "-ex", f"kestrel-attach 127.0.0.1:{port}",
            "-ex", "info symbol $pc",
            "-ex", "info line *$pc",
            "-ex", "bt",
            "-ex", "detach"]


def gdb_session(qemu_argv, gdb_cmd, workdir, timeout):
    """QEMU plus one `gdb -batch`; returns (gdb output, QEMU status or None,
    QEMU stderr). gdb's stdout and stderr share one pipe, so its errors stay
    in order with the output they follow. A gdb timeout is reported in the
    output, never as a pass."""
    print(f"# accelerator: {qemu.describe_argv(qemu_argv)}", flush=True)
    with open(Path(workdir) / "qemu.stderr", "w+b") as err:
        vm = harness.start_qemu(qemu_argv, err)
        try:
            gdb = subprocess.run(gdb_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, timeout=timeout * harness.TIMEOUT_SCALE,
                                 cwd=qemu.ROOT)
            out = gdb.stdout.decode(errors="replace") + f"\n(gdb exit status {gdb.returncode})\n"
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode(errors="replace") + f"\ngdb timed out after {e.timeout:.0f} s\n"
        finally:
            time.sleep(0.2)     # let a QEMU that failed at start-up finish its message
            status = vm.poll()
            harness.kill_qemu(vm)
        err.seek(0)
        return out, status, err.read().decode(errors="replace")


def session_on_free_port(run):
    """run(port) on a free port, again when another program took it first."""
    for _ in range(PORT_ATTEMPTS):
        out, status, stderr = run(free_port())
        if not re.search(r"Failed to bind|Address already in use", stderr):
            break
    return out, status, stderr


def report(rep, results, seconds, out, status, stderr, workdir):
    """One KTAP result per (name, reason or None); on any failure the gdb
    output, the serial log's tail and QEMU's stderr, and workdir is kept."""
    if any(reason for _, reason in results):
        harness.diag("gdb output:")
        harness.diag(out, prefix="#   | ")
        serial = Path(workdir) / "serial.log"
        if serial.exists():
            harness.diag("serial log (last lines):")
            log = harness.clean_serial(serial.read_bytes()).splitlines()
            harness.diag("\n".join(log[-harness.LOG_TAIL_LINES:]), prefix="#   > ")
        if stderr.strip():
            harness.diag(f"QEMU stderr (status {status}):")
            harness.diag(stderr, prefix="#   ! ")
        harness.diag(f"files kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    for name, reason in results:
        if reason:
            harness.diag(f"FAIL {name}: {reason}")
        rep.result(name, reason is None, seconds)
    return rep.finish()


def run_once(boot, elf, workdir, port):
    argv = qemu.build_argv(boot, 1, "512M", "pc", "test=boot", serial=str(Path(workdir) / "serial.log"),
                           gdb_port=port, stopped=True, workdir=workdir, image=harness.image_for(boot))
    return gdb_session(argv, gdb_argv(elf, port), workdir, GDB_TIMEOUT)


def checks(out):
    """(name, reason or None) for each thing gdb must have shown."""
    broken = re.search(GDB_BROKEN, out)
    stopped = re.search(r"^(Thread \d+ hit )?(Hardware assisted )?Breakpoint 1, (0x[0-9a-f]+ in )?kernel_main \(", out, re.M)
    symbol = re.search(r"^kernel_main( \+ \d+)? in section \S*text", out, re.M)
    yield "gdb-stops-at-kernel_main", (
        f"gdb error: {broken.group(0)}" if broken else
        None if stopped and symbol else "no 'Breakpoint 1, kernel_main (' stop with $pc in kernel_main")

    # `info line *$pc`: a kernel/main.c line whose code is in kernel_main.
    line = re.search(rf'^Line \d+ of "(\S*/)?{re.escape(MAIN_C)}" (starts|is) at address '
                     r"0x[0-9a-f]+ <kernel_main(\+\d+)?>", out, re.M)
    yield "gdb-source-line", None if line else \
        f"no 'Line N of \"{MAIN_C}\" ... <kernel_main>' for $pc (built without -g?)"

    frame0 = re.search(rf"^#0\s+(0x[0-9a-f]+ in )?kernel_main \(.*\) at (\S*/)?{re.escape(MAIN_C)}:\d+", out, re.M)
    frame1 = re.search(r"^#1\s+0x[0-9a-f]+ in [A-Za-z_]\w*", out, re.M)
    yield "gdb-backtrace", None if frame0 and frame1 else \
        "backtrace lacks '#0 kernel_main (...) at kernel/main.c:N' and a named caller frame '#1'"


TESTS = ("gdb-stops-at-kernel_main", "gdb-source-line", "gdb-backtrace")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--boot", choices=qemu.BOOTS, default="img")
    args = p.parse_args()
    harness.install_signal_handlers()
    rep = harness.Reporter(len(TESTS), "gdb")

    elf = harness.built("kestrel.elf")
    missing = [str(qemu.BUILD / name) for name, copy in (("kestrel.elf", elf),
               (qemu.IMAGES[args.boot].name, harness.image_for(args.boot))) if copy is None]
    missing += [] if shutil.which(GDB) else [GDB]
    if missing:
        for name in TESTS:
            rep.result(name, False, 0.0, f"missing {', '.join(missing)} (run: make, bash tools/setup.sh)")
        return rep.finish()

    workdir = tempfile.mkdtemp(prefix="kestrel-gdb-")
    start = time.monotonic()
    out, status, stderr = session_on_free_port(lambda port: run_once(args.boot, elf, workdir, port))
    seconds = time.monotonic() - start
    return report(rep, list(checks(out)), seconds, out, status, stderr, workdir)


if __name__ == "__main__":
    sys.exit(main())
