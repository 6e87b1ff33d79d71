#!/usr/bin/env python3
"""USB keyboards through xHCI (docs/usb.md), all boots in parallel:

- typing: -M q35,i8042=off with qemu-xhci and usb-kbd (no PS/2 keyboard),
  boot to `kestrel> `, type `run hello 42` and `halt` on the USB keyboard
  through QMP input-send-event (each key waits for the shell's echo, so a
  dead keyboard fails at its first key), check hello's answer; then
  unplug the keyboard and plug a new one in (QMP device_del, device_add),
  press Caps Lock on the new one (`x` must echo as `X`, then as `x` again,
  and QEMU's trace of the fetched TRBs must show the LED reports 1, 3, 1:
  Num Lock, Caps Lock on, off) and type `halt` on it: the power-off must
  follow. A second typing boot does the same on -M pc,i8042=off with
  the keyboard behind two usb-hubs on nec-usb-xhci without MSI or MSI-X,
  so hubs (route strings) and the polling fallback are covered; it also
  types 12 more lines, so the keyboard's transfer ring wraps; there x
  is also held for 1.5 s: the driver's typematic repeat must type it at
  least 4 more times and stop at the release.
- shapes, each `test=boot` asserting the driver's serial lines: qemu-xhci
  with a keyboard, a tablet, a USB stick (on a USB3 port) and an empty hub
  (non-keyboards skipped with a line each); nec-usb-xhci on -M pc (port
  I/O configuration, MSI); a controller behind a PCIe root port next to a
  second one; q35 under noacpi (port I/O, no MCFG); a controller with
  nothing plugged in; one whose command ring never answers (fault
  injection usb_fault=commands); a machine
  without xHCI; GRUB on UEFI, where OVMF drove the controller first; and
  a device that never answers (usb-redir to SilentUsbHost below) next to
  a keyboard: timed out, reported and skipped, the keyboard still set up.

Prints KTAP; exit status 1 on any failure."""

import re
import socket
import struct
import sys
import tempfile
import shutil
import time
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
import qmp  # noqa: E402
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
KEYBOARD_LINE = r"^usb: xhci \S+ port [\d.]+: boot keyboard on interface 0, endpoint 0x81"
TYPED = [
    # (text typed on the USB keyboard, regexes the output must then show)
    ("run hello 42\n", [r'argv\[1\]="42"', r"hello exited with status 42"]),
]


def no_panic():
    return (r"^panic: ", r"^usb: .*(timed out|no answer|not completed)")


# ------------------------------------------------------------------ keys

def key(q, qcode, down):
    """One key event. No device= : a keyboard named so must be bound to a
    display, and with i8042=off the USB keyboard is the only one there is."""
    q.execute("input-send-event", events=[
        {"type": "key", "data": {"down": down, "key": {"type": "qcode", "data": qcode}}}])


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
            key(q, code, True)
            key(q, code, False)
        except qmp.QMPError:
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


def replug_keyboard(q, serial, proc, failures):
    """Unplug the keyboard (QMP device_del), then plug a new one in (device_add): the
    driver must say so and set the new one up; halt is then typed on it."""
    start = len(read_log(serial))
    q.execute("device_del", id=KBD_ID)
    # Not anchored: the first kernel line lands after the prompt, on its line.
    if not wait_for(serial, r"usb: xhci \S+ port \d+: disconnected$", start, ANSWER_TIMEOUT, proc) \
            or not wait_for(serial, r"^usb: xhci \S+ port \d+: removed$", start, ANSWER_TIMEOUT, proc):
        failures.append("device_del of the keyboard: no 'disconnected' and 'removed' lines")
        return
    start = len(read_log(serial))
    q.execute("device_add", driver="usb-kbd", id=KBD_ID + "2")
    for rx in (r"usb: xhci \S+ port \d+: connected$", KEYBOARD_LINE,
               r"^usb: xhci \S+: 1 keyboard$"):
        if not wait_for(serial, rx, start, ANSWER_TIMEOUT, proc):
            failures.append(f"device_add of a keyboard: no line matching /{rx}/")
            return


def caps_lock(q, serial, proc, failures):
    """Caps Lock on the (new) USB keyboard: `x` then echoes as `X`; again: `x`;
    Enter gives the shell the line `Xx`. The LED reports are checked in QEMU's trace."""
    for want in ("X", "x"):
        start = len(read_log(serial))
        key(q, "caps_lock", True)
        key(q, "caps_lock", False)
        key(q, "x", True)
        key(q, "x", False)
        if not wait_for(serial, re.escape(want), start, KEY_TIMEOUT, proc):
            failures.append(f"Caps Lock then x: no {want!r} echoed")
            return
    start = len(read_log(serial))
    if type_on_usb(q, serial, "\n", proc, failures) and \
            not wait_for(serial, r"unknown command 'Xx'", start, ANSWER_TIMEOUT, proc):
        failures.append("Caps Lock: the shell did not get the line 'Xx'")


HOLD_S = 1.5            # a key held this long repeats (500 ms delay, then ~30/s)
MIN_REPEATS = 4         # far below the ~30 expected, far above none


def hold_key(q, serial, proc, failures):
    """Hold x for HOLD_S: the driver's typematic repeat must type it again
    and again, and stop at the release; Enter gives the shell the line."""
    start = len(read_log(serial))
    key(q, "x", True)
    time.sleep(HOLD_S)
    key(q, "x", False)
    time.sleep(0.5)
    first = read_log(serial)[start:].count("x")
    print(f"# held x: {first} echoed", flush=True)
    time.sleep(1.0)
    second = read_log(serial)[start:].count("x")
    if second != first:
        failures.append(f"x released: still repeating ({first} then {second} echoed)")
        return
    if first < 1 + MIN_REPEATS:
        failures.append(f"x held {HOLD_S} s: echoed {first} times, expected at least "
                        f"{1 + MIN_REPEATS} (no typematic repeat)")
        return
    start = len(read_log(serial))
    if type_on_usb(q, serial, "\n", proc, failures) and \
            not wait_for(serial, rf"unknown command 'x{{{first}}}'", start, ANSWER_TIMEOUT, proc):
        failures.append(f"held x: the shell did not get a line of {first} x")


# usb_xhci_fetch_trb: the Data Stage TRBs of one byte are the LED reports, the byte in p (IDT).
LED_TRB = re.compile(r"usb_xhci_fetch_trb addr 0x[0-9a-f]+, TR_DATA, p 0x([0-9a-f]+), s 0x0*1, ")


def leds_problem(trace):
    """None if the LED reports QEMU fetched show Num Lock (1), then Caps Lock
    too (3), then Num Lock alone again."""
    try:
        leds = [int(v, 16) for v in LED_TRB.findall(trace.read_text(errors="replace"))]
    except OSError as e:
        return f"no TRB trace: {e}"
    want, i = [1, 3, 1], 0
    for v in leds:
        if i < len(want) and v == want[i]:
            i += 1
    return None if i == len(want) else f"LED reports {leds}, expected {want} in order"


# 12 more lines: with the first one and halt, over 300 reports, so the keyboard's
# 255-TRB transfer ring wraps (link TRB, cycle toggle) at least once.
RING_WRAP = [("frobnicate\n", [r"unknown command 'frobnicate'"])] * 12


def typing_boot(name, machine, devices, require=(), replug=False, hold=False, typed=()):
    """One interactive boot as a harness.BootResult, checked by hand."""
    spec = BootSpec(name, machine=machine, smp=2, timeout=BOOT_TIMEOUT, ktap=False,
                    expect_status=0)
    workdir = Path(tempfile.mkdtemp(prefix=f"kestrel-{name}-"))
    result = harness.BootResult(spec, workdir=str(workdir))
    serial, sock = workdir / "serial.log", workdir / "qmp.sock"
    extra = ["-machine", "i8042=off"] + qmp.qmp_args(sock)
    if replug:
        extra += ["-trace", f"enable=usb_xhci_fetch_trb,file={workdir / 'trb.trace'}"]
    for d in devices:
        extra += ["-device", d]
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
                q = qmp.connect(sock, QMP_TIMEOUT)
                for text, wants in TYPED + list(typed):
                    start = len(read_log(serial))
                    if not type_on_usb(q, serial, text, proc, result.failures):
                        break
                    end = wait_for(serial, re.escape(PROMPT), start, ANSWER_TIMEOUT, proc)
                    answer = read_log(serial)[start:end.start() if end else None]
                    for w in wants:
                        if not re.search(w, answer, re.M):
                            result.failures.append(f"after typing {text!r}: missing /{w}/")
                if not result.failures and replug:
                    replug_keyboard(q, serial, proc, result.failures)
                if not result.failures and replug:
                    caps_lock(q, serial, proc, result.failures)
                if not result.failures and hold:
                    hold_key(q, serial, proc, result.failures)
                if not result.failures and type_on_usb(q, serial, "halt\n", proc,
                                                       result.failures):
                    try:
                        result.status = proc.wait(timeout=ANSWER_TIMEOUT)
                    except Exception:
                        result.failures.append("halt typed on the USB keyboard: QEMU still runs")
        except (RuntimeError, qmp.QMPError) as e:
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
        if replug:
            why = leds_problem(workdir / "trb.trace")
            if why:
                result.failures.append(why)
    if result.ok:
        shutil.rmtree(workdir, ignore_errors=True)
        result.workdir = None
    return result


# ------------------------------------------------------------------ a device that never answers

# usbredir protocol (usbredirproto.h, spice/usbredir): header {u32 type, u32 length, id},
# little endian; the id is 32 bits in the hello and 64 once both sides offered 64-bit ids.
# QEMU's usb-redir on xHCI wants the peer to offer the three capabilities below.
USBREDIR_HELLO = 0
USBREDIR_DEVICE_CONNECT = 1
USBREDIR_INTERFACE_INFO = 4
USBREDIR_EP_INFO = 5
USBREDIR_MAX = 32                   # interfaces and endpoints per info packet
USBREDIR_EP_CONTROL = 0
USBREDIR_EP_INVALID = 255
USBREDIR_EP0_IN = 16                # endpoint index: IN endpoints from 16
USBREDIR_CAP_EP_INFO_MAX_PACKET_SIZE = 4
USBREDIR_CAP_64BITS_IDS = 5
USBREDIR_CAP_32BITS_BULK_LENGTH = 6
USBREDIR_EP0_MAX_PACKET = 64
USBREDIR_SPEED_FULL = 1
USBREDIR_VERSION_LEN = 64


class SilentUsbHost(threading.Thread):
    """The far end of QEMU's usb-redir: it announces one full-speed device
    (hello, then device_connect) and never answers a single request, so the
    guest's first GET_DESCRIPTOR stays unanswered. QEMU is the socket's
    server and waits for this connection before it starts the guest."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.done = threading.Event()

    @staticmethod
    def packet(ptype, payload, id64=True):
        return struct.pack("<IIQ" if id64 else "<III", ptype, len(payload), 0) + payload

    def run(self):
        deadline = time.monotonic() + BOOT_TIMEOUT
        while not self.done.is_set() and time.monotonic() < deadline:
            try:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.connect(str(self.path))
                break
            except OSError:
                sock.close()
                time.sleep(0.05)
        else:
            return
        with sock:
            hello = b"kestrel silent usb host".ljust(USBREDIR_VERSION_LEN, b"\0") + \
                struct.pack("<I", 1 << USBREDIR_CAP_EP_INFO_MAX_PACKET_SIZE |
                            1 << USBREDIR_CAP_64BITS_IDS | 1 << USBREDIR_CAP_32BITS_BULK_LENGTH)
            # One interface that claims to be a boot keyboard (HID 3/1/1), EP0 only.
            pad = bytes(USBREDIR_MAX - 1)
            interfaces = struct.pack("<I", 1) + b"\0" + pad + b"\x03" + pad + b"\x01" + pad + \
                b"\x01" + pad
            types = bytearray([USBREDIR_EP_INVALID] * USBREDIR_MAX)
            types[0] = types[USBREDIR_EP0_IN] = USBREDIR_EP_CONTROL
            sizes = [0] * USBREDIR_MAX
            sizes[0] = sizes[USBREDIR_EP0_IN] = USBREDIR_EP0_MAX_PACKET
            eps = bytes(types) + bytes(2 * USBREDIR_MAX) + \
                struct.pack(f"<{USBREDIR_MAX}H", *sizes)        # intervals, interfaces, sizes
            connect = struct.pack("<BBBBHH", USBREDIR_SPEED_FULL, 0, 0, 0, 0x1234, 0x5678)
            sock.sendall(self.packet(USBREDIR_HELLO, hello, id64=False) +
                         self.packet(USBREDIR_INTERFACE_INFO, interfaces) +
                         self.packet(USBREDIR_EP_INFO, eps) +
                         self.packet(USBREDIR_DEVICE_CONNECT, connect))
            sock.settimeout(0.2)
            while not self.done.is_set():       # read and drop whatever QEMU asks
                try:
                    if not sock.recv(65536):
                        return
                except socket.timeout:
                    continue
                except OSError:
                    return


# ------------------------------------------------------------------ shapes

def shape(name, boot, machine, devices, require, timeout=60.0, chardev=None, forbid=None,
          words=""):
    extra = ["-machine", "i8042=off"] if machine == "q35" else []
    if chardev:
        extra += ["-chardev", chardev]
    for d in devices:
        extra += ["-drive", d[len("drive:"):]] if d.startswith("drive:") else ["-device", d]
    return BootSpec(name, boot=boot, machine=machine, cmdline=f"test=boot {words}".strip(),
                    timeout=timeout,
                    require=tuple(require), forbid=no_panic() if forbid is None else forbid,
                    extra=tuple(extra))


def stick_drive():
    """A USB stick's medium: the boot image itself, read only, writes to a snapshot."""
    return f"drive:if=none,id=stick,format=raw,readonly=on,file={qemu.qemu_escape(str(harness.image_for('img')))}"


def shapes():
    ctl = r"^usb: xhci (\S+): [0-9a-f]{4}:[0-9a-f]{4}, xHCI \d\.\d\d at 0x[0-9a-f]+, \d+ ports"
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
               r"^usb: xhci \S+ port \d+: hub with 8 ports$",
               r"^usb: xhci \S+: 4 devices connected, 1 keyboard$"]),
        shape("usb-pc-nec-msi", "img", "pc", ["nec-usb-xhci,msix=off", "usb-kbd"],
              [r"^pci: \d+ functions on \d+ bus(es)?, port I/O configuration \(no MCFG\)",
               ctl + r".*, MSI$", KEYBOARD_LINE,
               r"^usb: xhci \S+: 1 device connected, 1 keyboard$"]),
        # A controller behind a PCIe root port (bus 1) and a second one on bus 0.
        shape("usb-q35-bridge-two", "img", "q35",
              ["pcie-root-port,id=rp1,chassis=1", "qemu-xhci,bus=rp1,id=xb",
               "usb-kbd,bus=xb.0", "nec-usb-xhci,id=xn", "usb-kbd,bus=xn.0"],
              [r"^pci: 00:\S+ 1b36:000c class 060400 PCI bridge$",
               r"^pci: 01:00\.0 1b36:000d class 0c0330 USB controller$",
               r"^pci: \d+ functions on 2 buses, ECAM",
               r"^usb: xhci 01:00\.0 port \d+: boot keyboard on interface 0",
               r"^usb: xhci 00:\S+ port \d+: boot keyboard on interface 0",
               r"^usb: 2 xHCI controllers, 2 keyboards, set up in \d+ ms$"]),
        # noacpi: no MCFG either, so q35 falls back to port I/O configuration.
        shape("usb-q35-noacpi", "img", "q35", ["qemu-xhci", "usb-kbd"],
              [r"^pci: noacpi: MCFG not used$",
               r"^pci: \d+ functions on \d+ bus(es)?, port I/O configuration \(no MCFG\)$",
               KEYBOARD_LINE], words="noacpi"),
        # Fault injection: a command ring that never answers. Reported, skipped, boot goes on.
        shape("usb-q35-dead-controller", "img", "q35", ["qemu-xhci", "usb-kbd"],
              [r"^usb: fault injection 'commands'$",
               r"^usb: xhci \S+: Enable Slot command not completed in 500 ms; controller skipped$",
               r"^usb: 1 xHCI controller, 0 keyboards, set up in \d+ ms$",
               r"^# suite: boot$"],
              forbid=(r"^panic: ",), words="usb_fault=commands"),
        shape("usb-q35-empty", "img", "q35", ["qemu-xhci"],
              [ctl, r"^usb: xhci \S+: 0 devices connected, 0 keyboards$",
               r"^usb: 1 xHCI controller, 0 keyboards, set up in \d+ ms$"]),
        shape("usb-q35-none", "img", "q35", [],
              [r"^usb: no xHCI controller$"]),
        # OVMF (Debian 12) puts the 64-bit BAR0 above 4 GiB (0xe000000000): mapped through the vmm.
        shape("usb-uefi-q35", "uefi", "q35", ["qemu-xhci", "usb-kbd"],
              [ctl, r"^usb: xhci \S+: 1b36:000d, xHCI \d\.\d\d at 0x[1-9a-f][0-9a-f]{8,}, ",
               KEYBOARD_LINE, r"^usb: xhci \S+: 1 device connected, 1 keyboard$"],
              timeout=120.0),
    ]


def main():
    harness.install_signal_handlers()
    specs = shapes()
    sockdir = Path(tempfile.mkdtemp(prefix="kestrel-usbredir-"))
    silent = SilentUsbHost(sockdir / "redir.sock")
    specs.append(shape("usb-q35-silent-device", "img", "q35",
                       ["qemu-xhci,id=xhci", "usb-kbd,bus=xhci.0,port=1",
                        f"usb-redir,chardev=redir,bus=xhci.0,port=2"],
                       [r"^usb: xhci \S+ port \d+: device descriptor: no answer in 500 ms; "
                        r"device skipped$",
                        KEYBOARD_LINE, r"^usb: xhci \S+: 2 devices connected, 1 keyboard$"],
                       chardev=f"socket,id=redir,path={silent.path},server=on,wait=on",
                       forbid=(r"^panic: ",)))
    silent.start()
    typing = [("usb-type-q35-msix", "q35", ["qemu-xhci", f"usb-kbd,id={KBD_ID}"], [r", MSI-X$"],
               True),
              # The keyboard behind two hubs, on a controller without MSI or MSI-X.
              ("usb-type-pc-polled-hubs", "pc",
               ["nec-usb-xhci,id=xhci,msi=off,msix=off", "usb-hub,bus=xhci.0,port=2",
                "usb-hub,bus=xhci.0,port=2.3", f"usb-kbd,id={KBD_ID},bus=xhci.0,port=2.3.1"],
               [r", no MSI: polled$", r"^usb: xhci \S+ port \d+\.3: hub with 8 ports$",
                r"^usb: xhci \S+ port \d+\.3\.1: boot keyboard on interface 0"], False, True,
               RING_WRAP)]
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
    silent.done.set()
    shutil.rmtree(sockdir, ignore_errors=True)
    for r in results:
        rep.boot(r)
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main())
