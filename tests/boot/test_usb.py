#!/usr/bin/env python3
"""tools/usb.sh refuses every target that is not a whole, removable,
unused disk, and writes nothing when it refuses. Prints KTAP.
Safety: YES=1 is only ever passed with targets this test owns (a temporary
file) or /dev/null; real disks get no YES and no terminal, so even a broken
check could not get past the confirmation."""

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

ROOT = harness.ROOT
USB_SH = ROOT / "tools" / "usb.sh"
TIMEOUT = 30.0


def lsblk():
    """Whole disks and partitions: list of dicts with name, type, rm, hotplug, tran, mountpoint(s)."""
    try:
        out = subprocess.run(["lsblk", "-J", "-p", "-o", "NAME,TYPE,RM,HOTPLUG,TRAN,MOUNTPOINTS"],
                             capture_output=True, text=True, timeout=TIMEOUT, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    flat = []

    def walk(devs, disk):
        for d in devs:
            d["disk"] = disk or d["name"]
            flat.append(d)
            walk(d.get("children", []), d["disk"])
    walk(json.loads(out).get("blockdevices", []), None)
    return flat


def flag(value):
    """lsblk -J gives booleans (util-linux >= 2.37) or "0"/"1" (older)."""
    return value in (True, 1, "1")


def in_use(devs, disk):
    swaps = Path("/proc/swaps").read_text() if Path("/proc/swaps").exists() else ""
    for d in devs:
        if d["disk"] == disk:
            if any(m for m in d.get("mountpoints") or [] if m) or d["name"] in swaps:
                return True
    return False


def find_targets(devs):
    """Real devices to aim at, or None where this machine has none."""
    parts = [d["name"] for d in devs if d["type"] == "part"]
    root = subprocess.run(["findmnt", "-no", "SOURCE", "/"], capture_output=True, text=True).stdout.strip()
    root_disk = next((d["disk"] for d in devs if d["name"] == root), None)
    internal = [d["name"] for d in devs if d["type"] == "disk" and not flag(d.get("rm")) and not flag(d.get("hotplug"))
                and d.get("tran") != "usb" and not in_use(devs, d["name"])]
    return {"partition": parts[0] if parts else None, "mounted": root_disk,
            "internal": internal[0] if internal else None}


def run_usb(dev, image, yes):
    """tools/usb.sh with no terminal; returns (status, output)."""
    p = subprocess.run(["bash", str(USB_SH), dev, image, yes], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=TIMEOUT)
    return p.returncode, p.stdout + p.stderr


def refusal(dev, image, yes, expect):
    """None when usb.sh refused with a message matching expect."""
    status, out = run_usb(dev, image, yes)
    if status == 0:
        return f"usb.sh {dev!r} exited 0: {out.strip()[-300:]}"
    if not re.search(rf"usb\.sh: refusing: .*({expect})", out):
        return f"usb.sh {dev!r} refused, but not with /{expect}/: {out.strip()[-300:]}"
    if re.search(r"bytes .* copied|wrote ", out):
        return f"usb.sh {dev!r} wrote data: {out.strip()[-300:]}"
    return None


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def cases(tmp):
    """(name, check) pairs; a check returns None, a reason, or 'SKIP why'."""
    image = Path(tmp) / "image.bin"
    image.write_bytes(os.urandom(1 << 20))
    img = str(image)
    victim = Path(tmp) / "victim.bin"
    victim.write_bytes(b"\xa5" * (4 << 20))
    before = digest(victim)
    targets = find_targets(lsblk())

    def regular_file():
        reason = refusal(str(victim), img, "1", "not a block device")
        return reason or ("the regular file was modified" if digest(victim) != before else None)

    def real_disk(key, expect, what):
        dev = targets[key]
        return lambda: refusal(dev, img, "", expect) if dev else f"SKIP this machine has no {what}"

    return [
        ("usb-refuses-no-device", lambda: refusal("", img, "1", "no device given")),
        ("usb-refuses-missing-device", lambda: refusal("/dev/kestrel-no-such-disk", img, "1", "does not exist")),
        ("usb-refuses-regular-file", regular_file),
        ("usb-refuses-char-device", lambda: refusal("/dev/null", img, "1", "not a block device")),
        ("usb-refuses-missing-image", lambda: refusal(targets["mounted"] or "/dev/null",
                                                      str(Path(tmp) / "none.img"), "", "does not exist or is empty")),
        ("usb-refuses-mounted-disk", real_disk("mounted", "is mounted on", "root file system on a disk")),
        ("usb-refuses-partition", real_disk("partition", "is a partition", "partition")),
        ("usb-refuses-non-removable-disk", real_disk("internal", "is not removable", "unused internal disk")),
    ]


def main():
    with tempfile.TemporaryDirectory(prefix="kestrel-usb-") as tmp:
        tests = cases(tmp)
        rep = harness.Reporter(len(tests), "usb")
        for name, fn in tests:
            start = time.monotonic()
            reason = fn()
            if reason and reason.startswith("SKIP"):
                rep.skip(name, reason[len("SKIP "):])
                continue
            if reason:
                harness.diag(f"FAIL {name}: {reason}")
            rep.result(name, reason is None, time.monotonic() - start)
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main())
