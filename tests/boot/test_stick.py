#!/usr/bin/env python3
"""build/kestrel.img as one stick for every PC (tools/mkimage.py): its GPT
passes `sgdisk -v`, its ESP's grub.cfg names the very sectors stage 2's
table names, and it boots as a USB stick on xHCI, as an AHCI disk and as an
NVMe disk, each under SeaBIOS (our stage 1/2) and under OVMF (GRUB from the
ESP): six boots, in parallel, each ending at the shell's prompt (init=sh).

Each boot must show the path it took (stage 2's banner and its GPT line on
BIOS, the kernel's boot_info source kestrel-bios or grub-uefi, and the
firmware's own line naming the device) and the same kernel and initrd: the
kernel's rev, .text CRC-32, initrd size and CRC-32 and command line must be
equal on all six and match what the image holds. Prints KTAP; on failure
the serial log (and the SeaBIOS log) of the boot."""

import concurrent.futures
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from harness import qemu  # noqa: E402

sys.path.insert(0, str(harness.ROOT / "tools"))
import mkimage  # noqa: E402

POLL_SECONDS = 0.25
# Seconds to the prompt under TCG: SeaBIOS ~5, OVMF 15-90 (host load).
TIMEOUT = {"bios": 60.0, "uefi": 180.0}
PROMPT = r"^kestrel> "
SEABIOS_LOG_PORT = 0x402        # SeaBIOS's debug output (QEMU isa-debugcon)
FIRMWARE = {"bios": "img", "uefi": "uefi"}      # tools/qemu.py boot kinds
# The firmware's own words for the device it booted (SeaBIOS debug log on
# BIOS; OVMF's BdsDxe line on COM1 on UEFI).
DEVICE_PROOF = {
    ("bios", "usb"): r"^USB MSC blksize=512 sectors=\d+",
    ("bios", "ahci"): r'^AHCI/0: registering: ".*Hard-Disk',
    ("bios", "nvme"): r"^Searching bootorder for: /pci@i0cf8/\*@\d+$",
    ("uefi", "usb"): r'^BdsDxe: starting Boot\w+ ".*" from \S*/USB\(',
    ("uefi", "ahci"): r'^BdsDxe: starting Boot\w+ ".*" from \S*/Sata\(',
    ("uefi", "nvme"): r'^BdsDxe: starting Boot\w+ ".*" from \S*/NVMe\(',
}
PATH_LINES = {
    "bios": (r"^stage2: Kestrel stage2 \S+, BIOS drive 0x8[0-9a-f]$",
             rf"^stage2: GPT: Kestrel partition is entry {mkimage.GPT_KESTREL_ENTRY}, ",
             r"^Kestrel \S+ \(kestrel-bios\) x86_64, rev \S+$",
             r"^boot: loaded by Kestrel stage2 "),
    "uefi": (r"^Welcome to GRUB!", r"^Kestrel \S+ \(grub-uefi\) x86_64, rev \S+$",
             r"^boot: loaded by GRUB .*, UEFI firmware$"),
}
FORBID = {"bios": (r"GRUB", r"^Kestrel: "), "uefi": (r"^stage2: ", r"^Kestrel: ")}
# Signs that the prompt will never come: stop waiting, report the log.
DEAD_ENDS = (r"^kestrel: cannot start ", r"^panic: ", r"grub( rescue)?> ", r"^Kestrel: boot halted$")
FW_CFG_WORDS = "init=sh"        # the prompt right after boot; appended by the kernel
# What must be the same on every boot, and match the image.
IDENTITY = {
    "rev": r"^Kestrel \S+ \(\S+\) x86_64, rev (\S+)$",
    "text": r"^kernel: \.text (\d+) bytes, crc32 (0x[0-9a-f]{8})$",
    "initrd": r"^initrd: \d+ KiB \((\d+) bytes, crc32 (0x[0-9a-f]{8})\)$",
    "cmdline": r"^cmdline: (.*)$",
}
BOOTS = [(fw, bus) for fw in ("bios", "uefi") for bus in qemu.STICK_BUSES]


# ------------------------------------------------------------------ the image

def image_facts(img):
    """What the image holds: stage 2's table, the kernel's .text and the
    initrd (their size and CRC-32), read from the image's own bytes."""
    hdr = img[mkimage.STAGE2_LBA * mkimage.SECTOR:][:mkimage.SECTOR]
    magic, _, _ = mkimage.HDR_FIXED.unpack_from(hdr, 0)
    if magic != mkimage.STAGE2_MAGIC:
        raise ValueError(f"no stage 2 header at LBA {mkimage.STAGE2_LBA}")
    (_, part_lba, part_sectors, _, k_lba, k_size, i_lba,
     i_size) = mkimage.HDR_TABLE.unpack_from(hdr, mkimage.HDR_TABLE_OFF)
    cmdline = hdr[mkimage.HDR_CMDLINE_OFF:][:mkimage.STAGE2_CMDLINE_LEN].split(b"\0")[0].decode()
    kernel = img[k_lba * mkimage.SECTOR:][:k_size]
    initrd = img[i_lba * mkimage.SECTOR:][:i_size]
    return {"part_lba": part_lba, "part_sectors": part_sectors, "kernel_lba": k_lba,
            "kernel_size": k_size, "initrd_lba": i_lba, "initrd_size": i_size,
            "cmdline": cmdline, "text": elf_section(kernel, b".text"),
            "initrd": (str(len(initrd)), f"{zlib.crc32(initrd):#010x}")}


def elf_section(elf, name):
    """(size, crc32) of an ELF64 section, as the kernel prints them."""
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    sh = [struct.unpack_from("<IIQQQQ", elf, shoff + i * shentsize) for i in range(shnum)]
    strtab = sh[shstrndx][4]
    for sname, _, _, _, off, size in sh:
        if elf[strtab + sname:].split(b"\0")[0] == name:
            data = elf[off:off + size]
            return (str(len(data)), f"{zlib.crc32(data):#010x}")
    raise ValueError(f"kernel has no {name.decode()} section")


def gpt_entries(img):
    """{entry number: (type GUID, first LBA, last LBA)} from the primary GPT."""
    out = {}
    for i in range(mkimage.GPT_ENTRY_COUNT):
        off = 2 * mkimage.SECTOR + i * mkimage.GPT_ENTRY_SIZE
        t, _, first, last, _, _ = mkimage.GPT_ENTRY.unpack_from(img, off)
        if any(t):
            out[i + 1] = (mkimage.uuid.UUID(bytes_le=t), first, last)
    return out


def check_sgdisk(path):
    return mkimage.sgdisk_problems(path, partitions=3)


def check_grub_cfg(path, img, facts):
    """The ESP's grub.cfg reads the kernel and initrd sectors stage 2 reads."""
    parts = gpt_entries(img)
    esp = parts.get(mkimage.GPT_ESP_ENTRY)
    kestrel = parts.get(mkimage.GPT_KESTREL_ENTRY)
    if not esp or esp[0] != mkimage.ESP_GUID or not kestrel or \
            kestrel[0] != mkimage.KESTREL_PART_GUID:
        return [f"GPT entries are not as mkimage.py documents: {parts}"]
    problems = []
    if (kestrel[1], kestrel[2] - kestrel[1] + 1) != (facts["part_lba"], facts["part_sectors"]):
        problems.append(f"stage 2's table names LBA {facts['part_lba']}+{facts['part_sectors']}, "
                        f"the GPT's Kestrel entry {kestrel[1]}-{kestrel[2]}")
    r = subprocess.run(["mtype", "-i", f"{path}@@{esp[1] * mkimage.SECTOR}",
                        mkimage.EFI_GRUB_CFG], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))
    if r.returncode != 0:
        return problems + [f"mtype {mkimage.EFI_GRUB_CFG}: {r.stderr.strip()}"]
    r2 = subprocess.run(["mdir", "-b", "-i", f"{path}@@{esp[1] * mkimage.SECTOR}",
                         mkimage.EFI_BOOT_DIR], capture_output=True, text=True, timeout=60,
                        env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))
    if "BOOTX64.EFI" not in r2.stdout.upper():
        problems.append(f"no BOOTX64.EFI in {mkimage.EFI_BOOT_DIR}: {r2.stdout.strip()}")
    blocks = rf"\(\$kestrel_disk,gpt{mkimage.GPT_KESTREL_ENTRY}\)(\d+)\+(\d+)"
    k = re.search(rf"^\s*multiboot2 {blocks}", r.stdout, re.M)
    i = re.search(rf"^\s*module2 {blocks} initrd$", r.stdout, re.M)
    sec = mkimage.sectors_for
    want_k = (facts["kernel_lba"] - facts["part_lba"], sec(facts["kernel_size"]))
    want_i = (facts["initrd_lba"] - facts["part_lba"], sec(facts["initrd_size"]))
    if not k or (int(k[1]), int(k[2])) != want_k:
        problems.append(f"grub.cfg's kernel block list is not {want_k[0]}+{want_k[1]}")
    if not i or (int(i[1]), int(i[2])) != want_i:
        problems.append(f"grub.cfg's initrd block list is not {want_i[0]}+{want_i[1]}")
    if facts["initrd_size"] % mkimage.SECTOR:
        problems.append("initrd size is not whole sectors: GRUB would hand over more bytes")
    if problems:
        problems += ["grub.cfg:"] + r.stdout.splitlines()
    return problems


# ------------------------------------------------------------------ boots

def boot(fw, bus, image):
    name = f"{fw}-{bus}"
    workdir = tempfile.mkdtemp(prefix=f"kestrel-stick-{name}-")
    result = harness.BootResult(harness.BootSpec(name, boot=FIRMWARE[fw], machine="q35"),
                                workdir=workdir)
    serial, fwlog = Path(workdir) / "serial.log", Path(workdir) / "seabios.log"
    result.fwlog = ""
    try:
        extra = [] if fw == "uefi" else [   # OVMF's debug output there would slow it down
            "-chardev", f"file,id=seabios,path={qemu.qemu_escape(str(fwlog))}",
            "-device", f"isa-debugcon,iobase={SEABIOS_LOG_PORT:#x},chardev=seabios"]
        result.argv = qemu.build_argv(FIRMWARE[fw], 1, "512M", "q35", FW_CFG_WORDS,
                                      serial=str(serial), image=str(image), workdir=workdir,
                                      stick=bus, extra=extra)
        result.accel = qemu.describe_argv(result.argv)
        start = time.monotonic()
        deadline = start + TIMEOUT[fw] * harness.TIMEOUT_SCALE
        with open(Path(workdir) / "qemu.stderr", "w+b") as err:
            proc = harness.start_qemu(result.argv, err)
            try:
                while True:
                    raw = serial.read_bytes() if serial.exists() else b""
                    result.log = harness.clean_serial(raw)
                    if re.search(PROMPT, result.log, re.M):
                        break
                    dead = next((m for m in (re.search(rx, result.log, re.M)
                                             for rx in DEAD_ENDS) if m), None)
                    if dead:
                        result.failures.append(f"no prompt will come: {dead.group(0)!r}")
                        break
                    if proc.poll() is not None:
                        result.status = proc.returncode
                        result.failures.append("QEMU exited before the shell's prompt")
                        break
                    if time.monotonic() > deadline:
                        result.timed_out = True
                        result.failures.append("no shell prompt in time (a timeout is never a pass)")
                        break
                    time.sleep(POLL_SECONDS)
            finally:
                harness.kill_qemu(proc)
            result.seconds = time.monotonic() - start
            err.seek(0)
            result.stderr = err.read().decode("utf-8", errors="replace")
        if fwlog.exists():
            result.fwlog = harness.clean_serial(fwlog.read_bytes())
        for rx in PATH_LINES[fw]:
            if not re.search(rx, result.log, re.M):
                result.failures.append(f"missing line matching /{rx}/ (boot path)")
        proof = DEVICE_PROOF[(fw, bus)]
        if not re.search(proof, result.fwlog if fw == "bios" else result.log, re.M):
            result.failures.append(f"firmware log has no /{proof}/ (the {bus} device)")
        for rx in FORBID[fw]:
            m = re.search(rx, result.log, re.M)
            if m:
                result.failures.append(f"forbidden line matching /{rx}/: {m.group(0)!r}")
        result.identity = {}
        for key, rx in IDENTITY.items():
            m = re.search(rx, result.log, re.M)
            if not m:
                result.failures.append(f"missing line matching /{rx}/ (identity)")
            else:
                result.identity[key] = m.groups() if len(m.groups()) > 1 else m[1]
    except Exception as e:              # a broken boot is a failure, not a crash
        result.failures.append(f"{type(e).__name__}: {e}")
        result.identity = {}
    if result.ok:
        shutil.rmtree(workdir, ignore_errors=True)
        result.workdir = None
    return result


def expected_identity(facts):
    return {"text": facts["text"], "initrd": facts["initrd"],
            "cmdline": " ".join(w for w in (facts["cmdline"], FW_CFG_WORDS) if w)}


def main(argv):
    harness.install_signal_handlers()
    rep = harness.Reporter(3 + len(BOOTS), "stick")
    # --image FILE: another image built by tools/mkimage.py (e.g. with a
    # --cmdline), tested the same way.
    image = Path(argv[argv.index("--image") + 1]) if "--image" in argv else harness.image_for("img")
    if image is None:
        for name in ["gpt_valid", "esp_names_stage2_sectors"] + [f"{f}-{b}" for f, b in BOOTS] + \
                ["same_kernel_initrd_cmdline"]:
            rep.result(name, False, 0.0, f"{qemu.IMAGES['img']} missing (run: make)")
        return rep.finish()
    img = image.read_bytes()
    jobs = int(os.environ.get("KESTREL_JOBS", harness.DEFAULT_JOBS))
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        # UEFI boots first: they are the slow ones.
        futures = [pool.submit(boot, fw, bus, image) for fw, bus in sorted(BOOTS, reverse=True)]
        t0 = time.monotonic()
        problems = check_sgdisk(image)
        for p in problems:
            harness.diag(p, prefix="#   | ")
        rep.result("gpt_valid", not problems, time.monotonic() - t0)
        t0 = time.monotonic()
        try:
            facts = image_facts(img)
            problems = check_grub_cfg(image, img, facts)
        except (ValueError, struct.error, IndexError) as e:
            facts, problems = None, [f"image unreadable: {e}"]
        for p in problems:
            harness.diag(p, prefix="#   | ")
        rep.result("esp_names_stage2_sectors", not problems, time.monotonic() - t0)
        results = []
        for f in concurrent.futures.as_completed(futures):
            result = f.result()
            results.append(result)
            if not result.ok:
                harness.failure_report(result)
                if result.fwlog:
                    harness.diag("  SeaBIOS log (last 40 lines):")
                    harness.diag("\n".join(result.fwlog.splitlines()[-40:]), prefix="#   ! ")
            rep.result(result.spec.name, result.ok, result.seconds,
                       ("timeout; " if result.timed_out else "") + result.accel)
    # Every boot that got that far printed the same kernel, initrd and
    # command line, and they are the image's.
    problems = []
    want = expected_identity(facts) if facts else {}
    revs = {r.identity.get("rev") for r in results}
    if len(revs) != 1 or None in revs:
        problems.append(f"kernel revisions differ or are missing: {sorted(map(str, revs))}")
    for r in results:
        for key, value in want.items():
            if r.identity.get(key) != value:
                problems.append(f"{r.spec.name}: {key} {r.identity.get(key)!r}, the image "
                                f"holds {value!r}")
    for p in problems:
        harness.diag(p, prefix="#   | ")
    rep.result("same_kernel_initrd_cmdline", not problems and bool(want), 0.0)
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
