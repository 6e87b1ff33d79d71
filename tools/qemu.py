#!/usr/bin/env python3
"""Kestrel's one QEMU launcher: `make run`, `make debug` and every boot test
build their command line here (docs/testing.md: headless, -no-reboot,
isa-debug-exit on port 0xf4, extra kernel words through fw_cfg, and the
accelerator chosen by tools/accel.py)."""

import argparse
import os
import shlex
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import accel as accel_mod  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# KESTREL_BUILD points the tools at another build directory (out-of-tree builds).
BUILD = Path(os.environ.get("KESTREL_BUILD", ROOT / "build")).resolve()
IMAGES = {"img": BUILD / "kestrel.img", "iso": BUILD / "kestrel.iso", "uefi": BUILD / "kestrel.iso"}
BOOTS = tuple(IMAGES)
MACHINES = ("pc", "q35")
QEMU = os.environ.get("QEMU", "qemu-system-x86_64")

# isa-debug-exit: a guest write of V to this port makes QEMU exit with status
# (V << 1) | 1, so a status is never 0 (0 = reset/poweroff with -no-reboot).
DEBUG_EXIT_PORT = 0xF4
DEBUG_EXIT_SIZE = 0x04
EXIT_PASS = (0x10 << 1) | 1         # 33: every test passed
EXIT_FAIL = (0x11 << 1) | 1         # 35: some test failed
EXIT_PANIC = (0x12 << 1) | 1        # 37: kernel panic under test=
FW_CFG_CMDLINE = "opt/kestrel/cmdline"

# Firmware for --boot uefi. OVMF.fd is the combined CODE+VARS image that -bios
# can load; distributions that ship only the split files need pflash, with a
# private writable copy of the VARS so no boot changes the system's file.
OVMF_COMBINED = ("/usr/share/ovmf/OVMF.fd", "/usr/share/OVMF/OVMF.fd")
OVMF_SPLIT = (("/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"),
              ("/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd"))


class LaunchError(Exception):
    """A boot that cannot even be started (missing image or firmware)."""


def qemu_escape(value):
    """QEMU's option parser splits on commas; a literal comma is written twice."""
    return value.replace(",", ",,")


def firmware_args(workdir):
    """-bios or pflash arguments for OVMF; workdir receives the VARS copy."""
    for path in OVMF_COMBINED:
        if os.path.isfile(path):
            return ["-bios", path]
    for code, vars_template in OVMF_SPLIT:
        if os.path.isfile(code) and os.path.isfile(vars_template):
            if workdir is None:
                raise LaunchError("split OVMF firmware needs a work directory for its VARS copy")
            Path(workdir).mkdir(parents=True, exist_ok=True)
            vars_copy = Path(workdir) / "OVMF_VARS.fd"
            shutil.copyfile(vars_template, vars_copy)
            return ["-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={qemu_escape(code)}",
                    "-drive", f"if=pflash,format=raw,unit=1,file={qemu_escape(str(vars_copy))}"]
    raise LaunchError("no OVMF firmware found (run: bash tools/setup.sh)")


def disk_args(boot, image):
    """The boot medium. snapshot=on: writes go to a temporary overlay, so a
    boot never modifies build/kestrel.img. On q35, if=ide lands on the ICH9
    AHCI ports, which SeaBIOS and OVMF both boot from."""
    path = qemu_escape(str(image))
    if boot == "img":
        return ["-drive", f"file={path},format=raw,if=ide,snapshot=on", "-boot", "order=c"]
    return ["-drive", f"file={path},format=raw,if=ide,media=cdrom,readonly=on", "-boot", "order=d"]


STICK_BUSES = ("usb", "ahci", "nvme")
STICK_DRIVE_ID = "stick"


def stick_disk_args(bus, image, machine="q35"):
    """build/kestrel.img as a PC's one disk, first in the boot order: a USB
    stick on an xHCI controller, an AHCI disk (q35's ICH9 controller, an
    added one on pc) or an NVMe disk. snapshot=on, as in disk_args."""
    drive = ["-drive", f"if=none,id={STICK_DRIVE_ID},format=raw,snapshot=on,"
                       f"file={qemu_escape(str(image))}"]
    if bus == "usb":
        return drive + ["-device", "qemu-xhci,id=xhci", "-device",
                        f"usb-storage,bus=xhci.0,drive={STICK_DRIVE_ID},bootindex=0"]
    if bus == "ahci":
        ctrl, port = ([], "ide.0") if machine == "q35" else \
            (["-device", "ahci,id=stick-ahci"], "stick-ahci.0")
        return drive + ctrl + ["-device", f"ide-hd,bus={port},drive={STICK_DRIVE_ID},bootindex=0"]
    if bus == "nvme":
        return drive + ["-device", f"nvme,drive={STICK_DRIVE_ID},serial=kestrel0,bootindex=0"]
    raise LaunchError(f"unknown stick bus {bus!r}; expected one of {', '.join(STICK_BUSES)}")


def test_device_args(debug_exit=True):
    """What every boot has: no reset loop, no network ROM, isa-debug-exit
    (unless debug_exit is False)."""
    return ["-no-reboot", "-nic", "none"] + \
        (["-device", f"isa-debug-exit,iobase={DEBUG_EXIT_PORT:#x},iosize={DEBUG_EXIT_SIZE:#04x}"]
         if debug_exit else [])


def probe_argv(image, cpu, qemu_bin=QEMU):
    """tools/accel.py's probe guest (build/kvm_probe.bin) under KVM, headless."""
    return [qemu_bin, "-M", "pc", "-accel", "kvm", "-m", "16M", "-smp", "1"] + \
        (["-cpu", cpu] if cpu else []) + disk_args("img", image) + test_device_args() + \
        ["-display", "none", "-serial", "none", "-monitor", "none"]


def choose_accel(accel=None):
    """The accel.Choice for ACCEL=accel (None: the ACCEL variable, else auto)."""
    try:
        return accel_mod.choose(accel or accel_mod.requested_from_env(), QEMU, BUILD,
                                lambda image, cpu: probe_argv(image, cpu))
    except accel_mod.AccelError as e:
        raise LaunchError(str(e)) from None


def describe_argv(argv):
    """'tcg, cpu max' from a QEMU argv: the last -accel and -cpu win, as in QEMU."""
    acc, cpu = "tcg", None
    for opt, val in zip(argv, argv[1:]):
        if opt == "-accel":
            acc = val
        elif opt == "-cpu":
            cpu = val
    return accel_mod.Choice(acc, cpu).describe()


def build_argv(boot="img", smp=1, mem="512M", machine="pc", cmdline="", *,
               serial=None, interactive=False, display=False, gdb_port=None,
               stopped=False, accel=None, cpu=None, image=None, workdir=None,
               qmp=None, debug_exit=True, stick=None, extra=()):
    """The full QEMU argv for one boot.

    serial: path of a file receiving COM1 (harness), or None: with
    interactive, COM1 and the monitor share the terminal (Ctrl-A X quits);
    without, COM1 goes to QEMU's stdout. gdb_port/stopped: gdbstub on
    127.0.0.1:gdb_port, CPU held at reset until gdb continues. accel:
    auto, kvm or tcg (None: $ACCEL, else auto); cpu: a -cpu model, else
    the one the accelerator choice names. qmp: path of a UNIX socket for
    QMP (screendump, input events; tests/boot/screen.py), QEMU not waiting
    for a client. Without display the VGA device is still there (the
    machine's default, std VGA): -display none only opens no window.
    debug_exit=False leaves isa-debug-exit out, so that a kernel that would
    exit QEMU (a panic under test=) halts instead and its screen can be read.
    stick: usb, ahci or nvme boots the disk image (default build/kestrel.img) as that device instead, under
    SeaBIOS for boot img and OVMF for boot uefi."""
    if boot not in IMAGES:
        raise LaunchError(f"unknown boot {boot!r}; expected one of {', '.join(BOOTS)}")
    if machine not in MACHINES:
        raise LaunchError(f"unknown machine {machine!r}; expected one of {', '.join(MACHINES)}")
    if stick and boot not in ("img", "uefi"):
        raise LaunchError(f"a stick boots under SeaBIOS (img) or OVMF (uefi), not {boot!r}")
    image = Path(image) if image else IMAGES["img" if stick else boot]
    if not image.is_file():
        raise LaunchError(f"{image} does not exist (run: make)")
    argv = [QEMU, "-M", machine, "-smp", str(smp), "-m", str(mem)]
    choice = choose_accel(accel)
    argv += ["-accel", choice.accel]
    cpu = cpu or choice.cpu
    if cpu:
        argv += ["-cpu", cpu]
    if boot == "uefi":
        argv += firmware_args(workdir)
    argv += (stick_disk_args(stick, image, machine) if stick else disk_args(boot, image))
    argv += test_device_args(debug_exit)
    if cmdline:
        argv += ["-fw_cfg", f"name={FW_CFG_CMDLINE},string={qemu_escape(cmdline)}"]
    if not display:
        argv += ["-display", "none"]
    if serial is not None:
        argv += ["-serial", f"file:{serial}", "-monitor", "none"]
    elif interactive:
        argv += ["-serial", "mon:stdio"]
    else:
        argv += ["-serial", "stdio", "-monitor", "none"]
    if qmp is not None:
        argv += ["-qmp", f"unix:{qemu_escape(str(qmp))},server=on,wait=off"]
    if gdb_port is not None:
        argv += ["-gdb", f"tcp:127.0.0.1:{gdb_port}"]
    if stopped:
        argv.append("-S")
    argv += list(extra)
    return argv


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Boot Kestrel in QEMU. Options qemu.py does not know, and everything "
                    "after --extra, are passed to QEMU unchanged.",
        allow_abbrev=False)
    p.add_argument("--boot", choices=BOOTS, default="img",
                   help="img: our BIOS loader; iso: GRUB BIOS; uefi: GRUB UEFI under OVMF")
    p.add_argument("--smp", type=int, default=1, metavar="N")
    p.add_argument("--mem", default="512M", metavar="SIZE")
    p.add_argument("--machine", choices=MACHINES, default="pc")
    p.add_argument("--cmdline", default="", metavar="WORDS",
                   help=f"words appended to the kernel command line (fw_cfg {FW_CFG_CMDLINE})")
    p.add_argument("--interactive", action="store_true",
                   help="serial console and monitor on this terminal (Ctrl-A X quits, Ctrl-A C monitor)")
    p.add_argument("--display", action="store_true", help="open QEMU's display window too")
    p.add_argument("--serial", metavar="FILE", help="write COM1 to FILE instead of the terminal")
    p.add_argument("--gdb", type=int, metavar="PORT", help="gdbstub on 127.0.0.1:PORT")
    p.add_argument("--stopped", action="store_true", help="hold the CPU at reset (-S) until gdb continues")
    p.add_argument("--accel", choices=accel_mod.ACCELS, default=None,
                   help="auto (default, or $ACCEL): KVM only when a probe guest passed under it")
    p.add_argument("--cpu", metavar="MODEL", help="QEMU -cpu model (default: QEMU's)")
    p.add_argument("--stick", choices=STICK_BUSES,
                   help="boot build/kestrel.img (or --image) as a USB stick on xHCI, an AHCI "
                        "or an NVMe disk; --boot img: SeaBIOS, uefi: OVMF")
    p.add_argument("--image", metavar="FILE", help="boot this file instead of build/kestrel.{img,iso}")
    p.add_argument("--print", action="store_true", help="print the QEMU command instead of running it")
    p.add_argument("--extra", nargs=argparse.REMAINDER, default=[], metavar="ARGS",
                   help="the rest of the line goes to QEMU")
    args, unknown = p.parse_known_args(argv)
    args.extra = unknown + args.extra
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # Only split-OVMF systems write here (their VARS copy); it outlives exec.
    workdir = BUILD / "ovmf"
    try:
        cmd = build_argv(args.boot, args.smp, args.mem, args.machine, args.cmdline,
                         serial=args.serial, interactive=args.interactive, display=args.display,
                         gdb_port=args.gdb, stopped=args.stopped, accel=args.accel, cpu=args.cpu,
                         image=args.image, workdir=workdir, stick=args.stick, extra=args.extra)
    except LaunchError as e:
        print(f"qemu.py: {e}", file=sys.stderr)
        return 2
    if args.print:
        print(shlex.join(cmd))
        return 0
    print(f"qemu.py: accelerator {describe_argv(cmd)}", file=sys.stderr)
    if args.interactive:
        print("qemu.py: Ctrl-A X quits, Ctrl-A C switches to the QEMU monitor", file=sys.stderr)
    # exec, so the caller's PID is QEMU's (debug.sh kills it by that PID).
    try:
        os.execvp(cmd[0], cmd)
    except OSError as e:
        print(f"qemu.py: cannot run {cmd[0]}: {e} (run: bash tools/setup.sh)", file=sys.stderr)
        return 127


if __name__ == "__main__":
    sys.exit(main())
