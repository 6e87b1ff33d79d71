"""Which QEMU accelerator and CPU model a boot uses (ACCEL=auto|kvm|tcg).

A writable /dev/kvm does not mean KVM can run a guest: on some hosts every
boot dies with "KVM internal error ... emulation failure" at the first x87
instruction, and -cpu host aborts QEMU ("failed to set MSR 0x10a"). So
'auto' uses KVM only after a probe guest (tools/kvm_probe.S: long mode,
fninit/ldmxcsr/fxsave, x87 and SSE arithmetic, CPUID, isa-debug-exit)
passed under it, with the first CPU model of KVM_CPU_MODELS that works.
The verdict is cached per build directory in accel.json, keyed by
everything that could change it.

decide() holds the policy and is pure; tests/unit/test_accel.py checks it.
"""

import fcntl
import hashlib
import json
import os
import platform
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ACCELS = ("auto", "kvm", "tcg")
KVM_DEVICE = "/dev/kvm"
# Tried in this order: the host's own CPU (every feature the kernel can
# use), QEMU's maximum, then QEMU's default model (qemu64).
KVM_CPU_MODELS = ("host", "max", None)
DEFAULT_CPU_NAME = "qemu64 (QEMU's default)"

# Must match tools/kvm_probe.S. isa-debug-exit makes QEMU exit (v << 1) | 1.
PROBE_PASS = (0x2A << 1) | 1
PROBE_FAIL = (0x2B << 1) | 1
PROBE_TIMEOUT = 5.0         # seconds; the probe exits in ~0.3 s where KVM works
PROBE_POLL = 0.05
PROBE_IMAGE = "kvm_probe.bin"
CACHE_FILE = "accel.json"
CACHE_VERSION = 1
KVM_ERROR = "KVM internal error"


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    cpu: str = None         # the model that passed (None: QEMU's default)
    reason: str = ""        # why not, when not ok


@dataclass(frozen=True)
class Choice:
    accel: str              # "kvm" or "tcg"
    cpu: str = None         # -cpu model, None for QEMU's default
    note: str = ""          # one line for the user, "" when nothing to say

    def describe(self):
        return f"{self.accel}, cpu {self.cpu or DEFAULT_CPU_NAME}"


class AccelError(Exception):
    """The accelerator asked for cannot be had at all."""


def decide(requested, kvm_problem, probe):
    """The accelerator for ACCEL=requested.

    kvm_problem: None when /dev/kvm exists and is writable, else why not.
    probe: a callable returning a ProbeResult, called only when needed."""
    if requested not in ACCELS:
        raise AccelError(f"ACCEL={requested!r}: expected one of {', '.join(ACCELS)}")
    if requested == "tcg":
        return Choice("tcg")
    if kvm_problem is not None:
        if requested == "kvm":
            raise AccelError(f"ACCEL=kvm but {kvm_problem}")
        return Choice("tcg")            # no KVM at all: nothing worth a line
    result = probe()
    if result.ok:
        return Choice("kvm", result.cpu)
    if requested == "kvm":
        return Choice("kvm", None, f"KVM probe failed: {result.reason}; "
                                   "using KVM anyway, as ACCEL=kvm asks")
    return Choice("tcg", None, f"KVM present but unusable: {result.reason}; using TCG")


def kvm_device_problem(path=KVM_DEVICE):
    if not os.path.exists(path):
        return f"there is no {path}"
    if not os.access(path, os.R_OK | os.W_OK):
        return f"{path} is not readable and writable by this user"
    return None


def _first_line(text, needle=None):
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if needle:
        lines = [ln for ln in lines if needle in ln] or lines
    return lines[0] if lines else ""


def probe_once(argv_for, image, cpu, timeout=PROBE_TIMEOUT):
    """Boot the probe under KVM with one CPU model; returns a ProbeResult.
    argv_for(image, cpu): the QEMU command (tools/qemu.py probe_argv)."""
    name = f"-cpu {cpu}" if cpu else "default CPU model"
    argv = argv_for(image, cpu)
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                start_new_session=True)
    except OSError as e:
        return ProbeResult(False, cpu, f"cannot run {argv[0]}: {e}")
    # QEMU pauses the guest after a KVM internal error instead of exiting:
    # read stderr as it comes and stop at that line.
    err = bytearray()
    os.set_blocking(proc.stderr.fileno(), False)
    deadline = time.monotonic() + timeout
    status = None
    try:
        while True:
            chunk = proc.stderr.read()
            if chunk:
                err += chunk
            status = proc.poll()
            if status is not None or KVM_ERROR.encode() in err or time.monotonic() >= deadline:
                break
            time.sleep(PROBE_POLL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        rest = proc.stderr.read()
        if rest:
            err += rest
        proc.stderr.close()
    text = err.decode("utf-8", errors="replace")
    if status == PROBE_PASS:
        return ProbeResult(True, cpu)
    if KVM_ERROR in text:
        why = _first_line(text, KVM_ERROR)
        if "emulation failure" not in why and "emulation failure" in text:
            why += " (emulation failure)"
        return ProbeResult(False, cpu, f"{name}: {why}")
    if status == PROBE_FAIL:
        return ProbeResult(False, cpu, f"{name}: the probe guest's FPU/SSE/CPUID checks failed")
    if status is None:
        return ProbeResult(False, cpu, f"{name}: the probe guest did not exit within {timeout:.0f} s")
    return ProbeResult(False, cpu, f"{name}: QEMU exited with status {status}: "
                                   f"{_first_line(text) or 'no message'}")


def probe_models(argv_for, image, models=KVM_CPU_MODELS):
    """The first model that passes, else every model's reason."""
    if not Path(image).is_file():
        return ProbeResult(False, None, f"no probe image {image} (run: make)")
    reasons = []
    for cpu in models:
        r = probe_once(argv_for, image, cpu)
        if r.ok:
            return r
        reasons.append(r.reason)
    return ProbeResult(False, None, "; ".join(reasons))


def _file_id(path):
    try:
        st = os.stat(path)
        return [st.st_size, st.st_mtime_ns, st.st_ino]
    except OSError:
        return None


def _which(cmd):
    for d in os.environ.get("PATH", "").split(os.pathsep):
        p = Path(d) / cmd
        if p.is_file() and os.access(p, os.X_OK):
            return str(p.resolve())
    return cmd


def cache_key(qemu, image):
    digest = hashlib.sha256(Path(image).read_bytes()).hexdigest() if Path(image).is_file() else None
    dev = os.stat(KVM_DEVICE).st_rdev if os.path.exists(KVM_DEVICE) else None
    return {"version": CACHE_VERSION, "qemu": _which(qemu), "qemu_file": _file_id(_which(qemu)),
            "kernel": platform.release(), "probe": digest, "kvm_dev": dev,
            "models": [m or "" for m in KVM_CPU_MODELS]}


def cached_probe(qemu, build, argv_for):
    """probe_models() through build/accel.json, one prober at a time."""
    build = Path(build)
    image = build / PROBE_IMAGE
    key = cache_key(qemu, image)
    cache = build / CACHE_FILE
    build.mkdir(parents=True, exist_ok=True)
    with open(build / (CACHE_FILE + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            saved = json.loads(cache.read_text())
            if saved.get("key") == key:
                return ProbeResult(saved["ok"], saved.get("cpu"), saved.get("reason", ""))
        except (OSError, ValueError, KeyError, AttributeError):
            pass
        result = probe_models(argv_for, image)
        if image.is_file():     # no verdict without the probe: try again once built
            tmp = cache.with_suffix(".tmp")
            tmp.write_text(json.dumps({"key": key, "ok": result.ok, "cpu": result.cpu,
                                       "reason": result.reason}, indent=1) + "\n")
            tmp.replace(cache)
        return result


_chosen = {}
_chosen_lock = threading.Lock()


def choose(requested, qemu, build, argv_for, announce=True):
    """decide() with the real /dev/kvm and the cached probe, once per process
    and request; the note goes to stderr the first time."""
    with _chosen_lock:
        if requested not in _chosen:
            choice = decide(requested, kvm_device_problem(), lambda: cached_probe(qemu, build, argv_for))
            if choice.note and announce:
                print(f"qemu: {choice.note}", file=sys.stderr, flush=True)
            _chosen[requested] = choice
        return _chosen[requested]


def requested_from_env():
    return os.environ.get("ACCEL", "").strip() or "auto"
