#!/usr/bin/env python3
"""USB keyboards through xHCI (docs/usb.md), all boots in parallel:

- typing: -M q35,i8042=off with qemu-xhci and usb-kbd (no PS/2 keyboard),
  boot to `kestrel> `, type `run hello 42` and `halt` on the USB keyboard
  through QMP input-send-event (each key waits for the shell's echo, so a
  dead keyboard fails at its first key), check hello's answer and the
  power-off. A second typing boot does the same on -M pc,i8042=off with
  nec-usb-xhci without MSI or MSI-X, so the polling fallback is covered.
- shapes, each `test=boot` asserting the driver's serial lines: qemu-xhci
  with a keyboard, a tablet, a USB stick (on a USB3 port) and a hub
  (non-keyboards skipped with a line each); nec-usb-xhci on -M pc (port
  I/O configuration, MSI); a controller with nothing plugged in; a machine
  without xHCI; GRUB on UEFI, where OVMF drove the controller first.

Prints KTAP; exit status 1 on any failure."""

import json
import re
import socket
import sys
import tempfile
import shutil
import time
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from harness import BootSpec, qemu  # noqa: E402

PROMPT = "kestrel> "
BOOT_TIMEOUT = 120.0 * harness.TIMEOUT_SCALE
KEY_TIMEOUT = 15.0 * harness.TIMEOUT_SCALE      # one key's echo
ANSWER_TIMEOUT = 30.0 * harness.TIMEOUT_SCALE
QMP_TIMEOUT = 10.0 * harness.TIMEOUT_SCALE
POLL_S = 0.02
KBD_ID = "usbkbd"

# QAPI QKeyCode names of the characters typed (US layout, no Shift needed).
QCODES = {" ": "spc", "\n": "ret"}
KEYBOARD_LINE = r"^usb: xhci \S+ port \d+: boot keyboard on interface 0, endpoint 0x81"
TYPED = [
    # (text typed on the USB keyboard, regexes the output must then show)
    ("run hello 42\n", [r'argv\[1\]="42"', r"hello exited with status 42"]),
]


def no_panic():
    return (r"^panic: ", r"^usb: .*(timed out|no answer|not completed)")


# ------------------------------------------------------------------ QMP (minimal)

class QMP:
    """Enough of the QEMU Machine Protocol for input-send-event."""

    def __init__(self, path, timeout):
        deadline = time.monotonic() + timeout
        while True:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self.sock.connect(str(path))
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no QMP socket at {path} within {timeout:.0f} s")
                time.sleep(0.05)
        self.sock.settimeout(timeout)
        self.buf = b""
        if "QMP" not in self._read():
            raise RuntimeError("not a QMP greeting")
        self.execute("qmp_capabilities")

    def _read(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("QEMU closed the QMP socket")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, command, **args):
        self.sock.sendall(json.dumps({"execute": command, "arguments": args}).encode() + b"\n")
        while True:
            reply = self._read()
            if "error" in reply:
                raise RuntimeError(f"{command}: {reply['error'].get('desc')}")
            if "return" in reply:
                return reply["return"]

    def key(self, qcode, down):
        # No device= : a keyboard named so must be bound to a display, and
        # with i8042=off the USB keyboard is the only one there is.
        self.execute("input-send-event", events=[
            {"type": "key", "data": {"down": down, "key": {"type": "qcode", "data": qcode}}}])

    def close(self):
        self.sock.close()


# ------------------------------------------------------------------ typing boots

def read_log(path):
    return harness.clean_serial(path.read_bytes()) if path.exists() else ""


def wait_for(path, pattern, start, timeout, proc):
    """The match of pattern in the serial log from offset start, or None."""
    rx = re.compile(pattern, re.M)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = rx.search(read_log(path), start)
        if m:
            return m
        if proc.poll() is not None:
            return rx.search(read_log(path), start)
        time.sleep(POLL_S)
    return None


def type_on_usb(q, path, text, proc, failures):
    """Press and release each key; the shell echoes it before the next one."""
    for ch in text:
        start = len(read_log(path))
        code = QCODES.get(ch, ch)
        try:
            q.key(code, True)
            q.key(code, False)
        except (RuntimeError, OSError):
            # `halt` powers off as soon as Enter goes down: QEMU is gone before the key-up.
            try:
                proc.wait(timeout=QMP_TIMEOUT)
            except Exception:
                raise RuntimeError(f"QMP failed while typing {ch!r} and QEMU still runs")
        if not wait_for(path, re.escape(ch), start, KEY_TIMEOUT, proc):
            failures.append(f"typed {ch!r} on the USB keyboard: no echo within "
                            f"{KEY_TIMEOUT:.0f} s (dead keyboard)")
            return False
    return True


def typing_boot(name, machine, controller, require=()):
    """One interactive boot as a harness.BootResult, checked by hand."""
    spec = BootSpec(name, machine=machine, smp=2, timeout=BOOT_TIMEOUT, ktap=False,
                    expect_status=0)
    workdir = Path(tempfile.mkdtemp(prefix=f"kestrel-{name}-"))
    result = harness.BootResult(spec, workdir=str(workdir))
    serial, sock = workdir / "serial.log", workdir / "qmp.sock"
    extra = ["-machine", "i8042=off", "-device", controller, "-device", f"usb-kbd,id={KBD_ID}",
         "-qmp", f"unix:{sock},server=on,wait=off"]
    try:
        result.argv = qemu.build_argv("img", spec.smp, spec.mem, machine, "", serial=str(serial),
                                      workdir=str(workdir), extra=extra,
                                      image=harness.image_for("img"))
    except qemu.LaunchError as e:
        result.failures.append(f"cannot launch: {e}")
        return result
    result.accel = qemu.describe_argv(result.argv)
    begin = time.monotonic()
    with open(workdir / "qemu.stderr", "w+b") as err:
        proc = harness.start_qemu(result.argv, err)
        q = None
        try:
            if not wait_for(serial, re.escape(PROMPT), 0, BOOT_TIMEOUT, proc):
                result.failures.append(f"no '{PROMPT}' within {BOOT_TIMEOUT:.0f} s")
            else:
                q = QMP(sock, QMP_TIMEOUT)
                for text, wants in TYPED:
                    start = len(read_log(serial))
                    if not type_on_usb(q, serial, text, proc, result.failures):
                        break
                    end = wait_for(serial, re.escape(PROMPT), start, ANSWER_TIMEOUT, proc)
                    answer = read_log(serial)[start:end.start() if end else None]
                    for w in wants:
                        if not re.search(w, answer, re.M):
                            result.failures.append(f"after typing {text!r}: missing /{w}/")
                if not result.failures and type_on_usb(q, serial, "halt\n", proc,
                                                       result.failures):
                    try:
                        result.status = proc.wait(timeout=ANSWER_TIMEOUT)
                    except Exception:
                        result.failures.append("halt typed on the USB keyboard: QEMU still runs")
        except (RuntimeError, OSError) as e:
            result.failures.append(f"QMP: {e}")
        finally:
            if q:
                q.close()
            harness.kill_qemu(proc)
        err.seek(0)
        result.stderr = err.read().decode("utf-8", errors="replace")
    result.seconds = time.monotonic() - begin
    result.log = read_log(serial)
    if not result.failures:
        if result.status != 0 or "powering off" not in result.log:
            result.failures.append(f"halt: QEMU status {harness.describe_status(result.status)}, "
                                   "expected an ACPI power-off (0)")
        for rx in (KEYBOARD_LINE,) + tuple(require):
            if not re.search(rx, result.log, re.M):
                result.failures.append(f"missing line matching /{rx}/")
        for rx in no_panic():
            m = re.search(rx, result.log, re.M)
            if m:
                result.failures.append(f"forbidden line: {m.group(0)!r}")
    if result.ok:
        shutil.rmtree(workdir, ignore_errors=True)
        result.workdir = None
    return result


# ------------------------------------------------------------------ shapes

def shape(name, boot, machine, devices, require, timeout=60.0):
    extra = ["-machine", "i8042=off"] if machine == "q35" else []
    for d in devices:
        extra += ["-drive", d[len("drive:"):]] if d.startswith("drive:") else ["-device", d]
    return BootSpec(name, boot=boot, machine=machine, cmdline="test=boot", timeout=timeout,
                    require=tuple(require), forbid=no_panic(), extra=tuple(extra))


def stick_drive():
    """A USB stick's medium: the boot image itself, read only, writes to a snapshot."""
    return f"drive:if=none,id=stick,format=raw,readonly=on,file={qemu.qemu_escape(str(harness.image_for('img')))}"


def shapes():
    ctl = r"^usb: xhci (\S+): [0-9a-f]{4}:[0-9a-f]{4}, xHCI \d\.\d\d, \d+ ports"
    return [
        shape("usb-q35-mixed", "img", "q35",
              ["qemu-xhci", "usb-kbd", "usb-tablet", stick_drive(), "usb-storage,drive=stick",
               "usb-hub"],
              [r"^pci: \d+ functions on \d+ bus(es)?, ECAM at 0xb0000000",
               r"^pci: \S+ 1b36:000d class 0c0330 USB controller",
               ctl + r".*, MSI-X$",
               KEYBOARD_LINE,
               r"^usb: xhci \S+ port \d+: 0627:0001 \"QEMU USB Tablet\"",
               r"^usb: xhci \S+ port \d+: HID device \(no boot keyboard\), not a boot keyboard; "
               r"device skipped",
               r"^usb: xhci \S+ port \d+: 46f4:0001 \"QEMU USB HARDDRIVE\", super speed",
               r"^usb: xhci \S+ port \d+: mass storage, not a boot keyboard; device skipped",
               r"^usb: xhci \S+ port \d+: hub: hubs are not supported; device skipped",
               r"^usb: xhci \S+: 4 devices connected, 1 keyboard$"]),
        shape("usb-pc-nec-msi", "img", "pc", ["nec-usb-xhci,msix=off", "usb-kbd"],
              [r"^pci: \d+ functions on \d+ bus(es)?, port I/O configuration \(no MCFG\)",
               ctl + r".*, MSI$", KEYBOARD_LINE,
               r"^usb: xhci \S+: 1 device connected, 1 keyboard$"]),
        shape("usb-q35-empty", "img", "q35", ["qemu-xhci"],
              [ctl, r"^usb: xhci \S+: 0 devices connected, 0 keyboards$",
               r"^usb: 1 xHCI controller, 0 keyboards$"]),
        shape("usb-q35-none", "img", "q35", [],
              [r"^usb: no xHCI controller$"]),
        shape("usb-uefi-q35", "uefi", "q35", ["qemu-xhci", "usb-kbd"],
              [ctl, KEYBOARD_LINE, r"^usb: xhci \S+: 1 device connected, 1 keyboard$"],
              timeout=120.0),
    ]


def main():
    harness.install_signal_handlers()
    specs = shapes()
    typing = [("usb-type-q35-msix", "q35", "qemu-xhci", [r", MSI-X$"]),
              ("usb-type-pc-polled", "pc", "nec-usb-xhci,msi=off,msix=off", [r", no MSI: polled$"])]
    rep = harness.Reporter(len(specs) + len(typing), "usb keyboards")
    lock = threading.Lock()
    results = []

    def run_typing(args):
        r = typing_boot(*args)
        with lock:
            results.append(r)

    # The typing boots poll their logs, the shapes wait for QEMU: all at once,
    # the shapes on the harness's pool next to them.
    threads = [threading.Thread(target=run_typing, args=(t,)) for t in typing]
    for t in threads:
        t.start()
    for r in harness.run_many(specs, jobs=2):
        rep.boot(r)
    for t in threads:
        t.join()
    for r in results:
        rep.boot(r)
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main())
