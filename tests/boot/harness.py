"""QEMU boot-test harness (docs/serial.md, docs/testing.md): runs boots with a
timeout, captures COM1, checks the exit status, required lines and the
kernel's KTAP, and reports each boot as one KTAP result of the caller."""

import atexit
import concurrent.futures
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import qemu  # noqa: E402  (tools/qemu.py: the one place QEMU's argv is built)
from ktap import ktap_problems  # noqa: E402

LOG_TAIL_LINES = 200
# Boots in parallel. Measured on this 2-core host with tests/boot/test_boot.py
# (29 boots, SMP guests), while other work loaded the machine (load 5-7):
# 1 worker 69 s, 2 workers 44-46 s, 3 workers 38-40 s, no hangs; the
# slowest boot (OVMF) took 13 s with 3 workers, far below its timeout.
# On an idle machine: 1 worker 30-35 s, 2 18-24 s, 3 17.5 s, 4 17.8 s.
# QEMU waits on I/O and firmware timers enough that a third boot still
# gains; a fourth does not. KESTREL_JOBS=N overrides.
DEFAULT_JOBS = 3
# TCG speed varies with host load; KESTREL_TIMEOUT_SCALE=2 doubles every
# timeout on a slow machine without making any of them infinite.
TIMEOUT_SCALE = float(os.environ.get("KESTREL_TIMEOUT_SCALE", "1"))

STATUS_MEANING = {
    qemu.EXIT_PASS: "all tests passed (debug-exit 0x10)",
    qemu.EXIT_FAIL: "some test failed (debug-exit 0x11)",
    qemu.EXIT_PANIC: "kernel panic (debug-exit 0x12)",
    0: "QEMU exited with 0: triple fault/reset under -no-reboot, or poweroff; "
       "the kernel never wrote an exit code",
    1: "QEMU itself failed (bad arguments or missing file; see its stderr)",
}

POLL_INTERVAL = 0.25        # seconds between looks at a running boot
# Signs that a boot will never exit by itself: a kernel panic (under test=
# the kernel exits right after its report, so one that did not within the
# grace has halted), or GRUB's prompt (it found no config or kernel).
HALT_GRACE = 10.0
_HALT_SIGNS = ((re.compile(rb"(^|\n)\r?panic: "), "the kernel panicked"),
               (re.compile(rb"grub( rescue)?> "), "GRUB stopped at its prompt"))

_ANSI = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def describe_status(status):
    if status is None:
        return "no exit status (timed out)"
    if status < 0:
        return f"QEMU killed by signal {-status}"
    if status in STATUS_MEANING:
        return f"{status}: {STATUS_MEANING[status]}"
    if status & 1:
        return f"{status}: debug-exit value {status >> 1:#x}, not one of the protocol's"
    return f"{status}: unexpected QEMU exit status"


def clean_serial(raw):
    """Serial bytes to text lines: GRUB's terminal escapes and carriage
    returns out ("\\n\\r" and "\\r\\n" both become "\\n")."""
    text = raw.decode("utf-8", errors="replace")
    return _CONTROL.sub("", _ANSI.sub("", text))


# ------------------------------------------------------------------ boots

@dataclass
class BootSpec:
    """One QEMU boot and what it must show."""
    name: str
    boot: str = "img"
    smp: int = 1
    mem: str = "512M"
    machine: str = "pc"
    cmdline: str = ""
    timeout: float = 60.0
    expect_status: int = qemu.EXIT_PASS
    require: tuple = ()         # regexes (re.M) that must match the log
    forbid: tuple = ()          # regexes that must not match
    ktap: bool = True           # the log must hold complete, all-ok KTAP
    checks: tuple = ()          # callables(log) -> None or a reason
    extra: tuple = ()           # more QEMU arguments
    accel: str = None           # auto/kvm/tcg; None: $ACCEL (tools/accel.py)


@dataclass
class BootResult:
    spec: BootSpec
    status: int = None
    timed_out: bool = False
    log: str = ""
    stderr: str = ""
    seconds: float = 0.0
    argv: list = field(default_factory=list)
    failures: list = field(default_factory=list)
    workdir: str = None
    accel: str = ""             # "tcg, cpu max": what this boot ran on

    @property
    def ok(self):
        return not self.failures


# Every running QEMU, so SIGINT/SIGTERM (Ctrl-C, run_all's timeout) can kill
# them: each runs in its own session and would not get the signal itself.
_live = set()
_live_lock = threading.Lock()
_stopping = threading.Event()


def _stop_all(signum, _frame):
    _stopping.set()
    with _live_lock:
        procs = list(_live)
    for proc in procs:
        if proc.returncode is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    signal.signal(signum, signal.SIG_DFL)
    raise KeyboardInterrupt if signum == signal.SIGINT else SystemExit(128 + signum)


def install_signal_handlers():
    """Called once by each test program's main thread."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop_all)


def start_qemu(argv, stdout):
    """Popen for QEMU in its own session, registered for _stop_all."""
    if _stopping.is_set():
        raise KeyboardInterrupt
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout,
                            stderr=subprocess.STDOUT, start_new_session=True)
    with _live_lock:
        _live.add(proc)
    return proc


def kill_qemu(proc):
    """Kill a QEMU that still runs (its whole session's group), then reap it."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()
    with _live_lock:
        _live.discard(proc)


_snapshot = None
_snapshot_lock = threading.Lock()


def built(name):
    """Path of a private copy of build/<name> (kestrel.img, .iso, .elf),
    taken once per test program, or None if it was not built. A `make` in
    another terminal rewriting build/ mid-run must not hand some boots a
    half-written image, and all boots of a run test the same build."""
    global _snapshot
    with _snapshot_lock:
        if _snapshot is None:
            _snapshot = Path(tempfile.mkdtemp(prefix="kestrel-build-"))
            atexit.register(shutil.rmtree, _snapshot, True)
        copy = _snapshot / name
        if not copy.exists():
            src = qemu.BUILD / name
            if not src.is_file():
                return None
            shutil.copyfile(src, copy)
        return copy


def image_for(boot):
    return built(qemu.IMAGES[boot].name)


def launch(spec, workdir):
    """Run the boot described by spec; fills status, log, timing."""
    result = BootResult(spec, workdir=workdir)
    serial = Path(workdir) / "serial.log"
    try:
        result.argv = qemu.build_argv(spec.boot, spec.smp, spec.mem, spec.machine, spec.cmdline,
                                      serial=str(serial), workdir=workdir, extra=spec.extra,
                                      image=image_for(spec.boot), accel=spec.accel)
    except qemu.LaunchError as e:
        result.failures.append(f"cannot launch: {e}")
        return result
    result.accel = qemu.describe_argv(result.argv)
    (Path(workdir) / "qemu.cmd").write_text(f"# accelerator: {result.accel}\n"
                                           f"{shlex.join(result.argv)}\n")
    timeout = spec.timeout * TIMEOUT_SCALE
    start = time.monotonic()
    with open(Path(workdir) / "qemu.stderr", "w+b") as err:
        try:
            proc = start_qemu(result.argv, err)
        except OSError as e:
            result.failures.append(f"cannot run {result.argv[0]}: {e} (run: bash tools/setup.sh)")
            return result
        try:
            result.status, why = _wait(proc, serial, timeout)
            if why:
                result.timed_out = True
                result.failures.append(why)
        finally:
            kill_qemu(proc)
        result.seconds = time.monotonic() - start
        err.seek(0)
        result.stderr = err.read().decode("utf-8", errors="replace")
    result.log = clean_serial(serial.read_bytes()) if serial.exists() else ""
    return result


def _wait(proc, serial, timeout):
    """(status, None) when QEMU exits in time, else (None, reason). A boot
    that shows one of _HALT_SIGNS and is still running HALT_GRACE later is
    stopped early instead of waiting for the full timeout."""
    deadline = time.monotonic() + timeout
    halt = None                 # (reason, deadline) once a sign showed
    while True:
        try:
            return proc.wait(timeout=POLL_INTERVAL), None
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if now >= deadline:
            return None, f"timed out after {timeout:.0f} s (a timeout is never a pass)"
        if halt is None:
            log = _read(serial)
            halt = next(((why, now + HALT_GRACE) for rx, why in _HALT_SIGNS if rx.search(log)), None)
        elif now >= halt[1]:
            return None, f"{halt[0]} and QEMU was still running {HALT_GRACE:.0f} s later (halted)"


def _read(path):
    try:
        return path.read_bytes()
    except OSError:
        return b""


def check(result):
    """Append every reason this boot is not what its spec expects."""
    spec, log = result.spec, result.log
    if result.timed_out or result.failures:
        return result
    if result.status != spec.expect_status:
        result.failures.append(f"exit status {describe_status(result.status)}; "
                               f"expected {describe_status(spec.expect_status)}")
    for rx in spec.require:
        if not re.search(rx, log, re.M):
            result.failures.append(f"missing line matching /{rx}/")
    for rx in spec.forbid:
        m = re.search(rx, log, re.M)
        if m:
            result.failures.append(f"forbidden line matching /{rx}/: {m.group(0)!r}")
    if spec.ktap:
        result.failures.extend(ktap_problems(log))
    for fn in spec.checks:
        reason = fn(log)
        if reason:
            result.failures.append(reason)
    return result


def run_boot(spec):
    """Launch and check one boot. Its files are removed when it passed and
    kept (path in the report) when it failed, or always with KESTREL_KEEP=1."""
    workdir = tempfile.mkdtemp(prefix=f"kestrel-{_safe(spec.name)}-")
    try:
        result = check(launch(spec, workdir))
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)     # interrupted: nothing to show
        raise
    if result.ok and os.environ.get("KESTREL_KEEP") != "1":
        shutil.rmtree(workdir, ignore_errors=True)
        result.workdir = None
    return result


def run_many(specs, jobs=None):
    """Run boots on a small pool; yields results as they finish."""
    jobs = jobs or int(os.environ.get("KESTREL_JOBS", DEFAULT_JOBS))
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(run_boot, s) for s in specs]
        for f in concurrent.futures.as_completed(futures):
            yield f.result()


def _safe(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


# ------------------------------------------------------------------ reporting

def diag(text, prefix="# "):
    """Print text as KTAP diagnostic lines, so a kernel's own KTAP inside a
    log can never be counted as one of our results."""
    for line in text.splitlines() or [""]:
        print(f"{prefix}{line}".rstrip())


def failure_report(result, tail=LOG_TAIL_LINES):
    spec = result.spec
    diag(f"FAIL {spec.name}: {len(result.failures)} problem(s)")
    for reason in result.failures:
        diag(f"  - {reason}")
    if result.argv:
        diag(f"  accelerator: {result.accel}")
        diag(f"  command: {shlex.join(result.argv)}")
    if result.status is not None or result.timed_out:
        diag(f"  status: {describe_status(result.status)}; {result.seconds:.1f} s")
    lines = result.log.splitlines()
    diag(f"  serial log (last {min(tail, len(lines))} of {len(lines)} lines):")
    diag("\n".join(lines[-tail:]) or "(empty)", prefix="#   | ")
    if result.stderr.strip():
        diag("  QEMU stderr:")
        diag(result.stderr, prefix="#   ! ")
    if result.workdir:
        diag(f"  files kept in {result.workdir}")


class Reporter:
    """KTAP output of a test program: one result per boot, numbered in the
    order they finish (the pool runs them in parallel)."""

    def __init__(self, total, suite):
        self.total, self.number, self.failed = total, 0, 0
        print("KTAP version 1")
        print(f"# suite: {suite}")
        print(f"1..{total}", flush=True)

    def result(self, name, ok, seconds, note=""):
        self.number += 1
        self.failed += not ok
        diag(f"{name}: {seconds:.1f} s" + (f" ({note})" if note else ""))
        print(f"{'ok' if ok else 'not ok'} {self.number} {name}", flush=True)

    def skip(self, name, why):
        """KTAP skip: counted as passing, with the reason shown."""
        self.number += 1
        print(f"ok {self.number} {name} # SKIP {why}", flush=True)

    def boot(self, result):
        if not result.ok:
            failure_report(result)
        elif result.workdir:
            diag(f"{result.spec.name}: files kept in {result.workdir} (KESTREL_KEEP=1)")
        note = "hang: no exit code" if result.timed_out else describe_status(result.status)
        if result.accel:
            note += f"; {result.accel}"
        self.result(result.spec.name, result.ok, result.seconds, note)

    def finish(self):
        if self.number < self.total:
            diag(f"only {self.number} of {self.total} tests reported")
            self.failed += self.total - self.number
        print(f"# {self.total - self.failed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed else 0


def run_suite(suite, specs, jobs=None):
    """Run specs in parallel and report them as one KTAP document; returns
    the program's exit status."""
    install_signal_handlers()
    rep = Reporter(len(specs), suite)
    for result in run_many(specs, jobs):
        rep.boot(result)
    return rep.finish()
