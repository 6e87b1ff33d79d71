#!/usr/bin/env python3
"""Host tests of tools/accel.py: the ACCEL policy (decide), the probe's
reading of QEMU's behaviour (a fake QEMU plays each way KVM fails), the
CPU-model order and the per-build cache. Prints KTAP."""

import atexit
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import accel  # noqa: E402
import qemu  # noqa: E402

# A stand-in for qemu-system-x86_64: logs its argv, then behaves as
# $FAKE_MODE says (the ways a real QEMU under a broken KVM was seen to).
FAKE_QEMU = r"""#!/bin/sh
echo "$*" >> "$FAKE_LOG"
mode=$FAKE_MODE
case "$*" in *"-cpu $FAKE_GOOD_CPU "*) mode=pass ;; esac
case $mode in
pass) exit 85 ;;
fail) exit 87 ;;
abort) echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2; kill -ABRT $$ ;;
internal) printf 'KVM internal error. Suberror: 1\nextra data[0]: 0x0\nemulation failure\n' >&2; sleep 30 ;;
hang) sleep 30 ;;
esac
"""


class Probe:
    """A probe callable that records whether it was called."""

    def __init__(self, result):
        self.result, self.calls = result, 0

    def __call__(self):
        self.calls += 1
        return self.result


def expect_error(fn):
    try:
        fn()
    except accel.AccelError as e:
        return str(e)
    raise AssertionError("no AccelError")


def test_tcg_never_probes():
    p = Probe(accel.ProbeResult(True, "host"))
    c = accel.decide("tcg", None, p)
    assert (c.accel, c.cpu, c.note, p.calls) == ("tcg", None, "", 0), c


def test_auto_without_kvm_device_is_tcg_quietly():
    p = Probe(accel.ProbeResult(True, "host"))
    c = accel.decide("auto", "there is no /dev/kvm", p)
    assert (c.accel, c.note, p.calls) == ("tcg", "", 0), c


def test_kvm_without_device_is_an_error():
    msg = expect_error(lambda: accel.decide("kvm", "there is no /dev/kvm", Probe(None)))
    assert "ACCEL=kvm" in msg and "/dev/kvm" in msg, msg


def test_unknown_request_is_an_error():
    assert "ACCEL='fast'" in expect_error(lambda: accel.decide("fast", None, Probe(None)))


def test_auto_uses_kvm_with_the_model_that_passed():
    p = Probe(accel.ProbeResult(True, "max"))
    c = accel.decide("auto", None, p)
    assert (c.accel, c.cpu, c.note, p.calls) == ("kvm", "max", "", 1), c


def test_auto_falls_back_to_tcg_with_one_line():
    p = Probe(accel.ProbeResult(False, None, "default CPU model: KVM internal error"))
    c = accel.decide("auto", None, p)
    assert (c.accel, c.cpu) == ("tcg", None), c
    assert c.note == "KVM present but unusable: default CPU model: KVM internal error; using TCG", c.note
    assert "\n" not in c.note


def test_explicit_kvm_is_honoured_with_a_warning():
    c = accel.decide("kvm", None, Probe(accel.ProbeResult(False, None, "boom")))
    assert c.accel == "kvm" and "boom" in c.note, c


def test_describe_takes_the_last_cpu():
    argv = ["qemu", "-accel", "tcg", "-cpu", "max", "-smp", "2", "-cpu", "qemu64,+x2apic"]
    assert qemu.describe_argv(argv) == "tcg, cpu qemu64,+x2apic"
    assert qemu.describe_argv(["qemu", "-accel", "kvm"]) == f"kvm, cpu {accel.DEFAULT_CPU_NAME}"


def test_missing_device_reason():
    assert "no /nonexistent/kvm" in accel.kvm_device_problem("/nonexistent/kvm")


class Fake:
    """A fake QEMU and probe image in a temporary directory."""

    def __init__(self, mode, good_cpu="none-such"):
        self.dir = Path(tempfile.mkdtemp(prefix="kestrel-accel-test-"))
        atexit.register(shutil.rmtree, self.dir, True)
        self.qemu = self.dir / "qemu-system-x86_64"
        self.qemu.write_text(FAKE_QEMU)
        self.qemu.chmod(self.qemu.stat().st_mode | stat.S_IXUSR)
        self.log = self.dir / "argv.log"
        self.image = self.dir / accel.PROBE_IMAGE
        self.image.write_bytes(b"\0" * 512)
        os.environ.update(FAKE_LOG=str(self.log), FAKE_MODE=mode, FAKE_GOOD_CPU=good_cpu)

    def argv_for(self, image, cpu):
        return qemu.probe_argv(image, cpu, qemu_bin=str(self.qemu))

    def runs(self):
        return self.log.read_text().splitlines() if self.log.exists() else []


def test_probe_pass():
    f = Fake("pass")
    r = accel.probe_once(f.argv_for, f.image, "host")
    assert r.ok and r.cpu == "host", r
    assert "-accel kvm" in f.runs()[0] and "isa-debug-exit" in f.runs()[0]


def test_probe_guest_check_failed():
    f = Fake("fail")
    r = accel.probe_once(f.argv_for, f.image, None)
    assert not r.ok and "FPU/SSE/CPUID" in r.reason, r


def test_probe_qemu_abort_names_the_error():
    f = Fake("abort")
    r = accel.probe_once(f.argv_for, f.image, "host")
    assert not r.ok and "-cpu host" in r.reason and "MSR 0x10a" in r.reason, r


def test_probe_internal_error_is_caught_without_waiting():
    f = Fake("internal")
    start = time.monotonic()
    r = accel.probe_once(f.argv_for, f.image, None, timeout=20)
    took = time.monotonic() - start
    assert not r.ok and "KVM internal error" in r.reason and "emulation failure" in r.reason, r
    assert took < 10, f"took {took:.1f} s: waited for the timeout"


def test_probe_hang_times_out():
    f = Fake("hang")
    r = accel.probe_once(f.argv_for, f.image, None, timeout=0.5)
    assert not r.ok and "did not exit" in r.reason, r


def test_models_tried_in_order_first_pass_wins():
    f = Fake("abort", good_cpu="max")
    r = accel.probe_models(f.argv_for, f.image)
    assert r.ok and r.cpu == "max", r
    runs = f.runs()
    assert len(runs) == 2 and "-cpu host" in runs[0] and "-cpu max" in runs[1], runs


def test_all_models_fail_every_reason_kept():
    f = Fake("abort")
    r = accel.probe_models(f.argv_for, f.image)
    assert not r.ok and r.reason.count("MSR 0x10a") == len(accel.KVM_CPU_MODELS), r


def test_missing_probe_image():
    f = Fake("pass")
    f.image.unlink()
    r = accel.probe_models(f.argv_for, f.image)
    assert not r.ok and "no probe image" in r.reason and not f.runs(), r


def test_cache_reused_until_the_probe_changes():
    f = Fake("abort", good_cpu="max")
    first = accel.cached_probe(str(f.qemu), f.dir, f.argv_for)
    n = len(f.runs())
    second = accel.cached_probe(str(f.qemu), f.dir, f.argv_for)
    assert first == second and first.cpu == "max" and len(f.runs()) == n, (first, second)
    f.image.write_bytes(b"\1" * 512)        # a rebuilt probe: ask again
    accel.cached_probe(str(f.qemu), f.dir, f.argv_for)
    assert len(f.runs()) > n


def test_real_probe_passes_under_tcg():
    """The probe guest itself: under TCG (which emulates all it runs) it must
    reach its pass verdict, so a probe that can never pass is caught here."""
    image = qemu.BUILD / accel.PROBE_IMAGE
    assert image.is_file(), f"{image} missing (make builds it)"
    argv = [a if a != "kvm" else "tcg" for a in qemu.probe_argv(image, None)]
    status = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=30).returncode
    assert status == accel.PROBE_PASS, f"probe under TCG exited {status}, expected {accel.PROBE_PASS}"


def main():
    tests = [(n, fn) for n, fn in globals().items() if n.startswith("test_") and callable(fn)]
    print("KTAP version 1\n# suite: accel")
    print(f"1..{len(tests)}")
    failed = 0
    for i, (name, fn) in enumerate(tests, 1):
        try:
            fn()
            print(f"ok {i} {name}")
        except Exception:
            failed += 1
            for line in traceback.format_exc().splitlines():
                print(f"# {line}")
            print(f"not ok {i} {name}")
    print(f"# {len(tests) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
