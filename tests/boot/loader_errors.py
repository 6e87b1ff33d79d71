#!/usr/bin/env python3
"""Our BIOS loader's error paths: build broken disk images with
tools/mkimage.py from build/ artifacts (stage1.bin, stage2.bin, kestrel.elf,
bootx64.efi: the layout of build/kestrel.img, GPT, ESP and all),
boot each in QEMU and require the loader's exact message on COM1, plus one
good image as a control. The loader halts forever after an error, so a boot
ends as soon as every required line has appeared; a timeout is a failure.
Prints KTAP (-v: every serial log too); exit status 1 on any failure."""

import concurrent.futures
import re
import shutil
import struct
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from harness import qemu  # noqa: E402

sys.path.insert(0, str(harness.ROOT / "tools"))
import mkimage  # noqa: E402

BUILD = qemu.BUILD
POLL_SECONDS = 0.2
TIMEOUT = 30.0                  # seconds; a boot to the error takes ~2 s under TCG
MIB = 1 << 20

PT_LOAD = 1
PT_NOTE = 4
ELF_PHOFF = struct.Struct("<Q")         # e_phoff at 32
ELF_PHNUM = struct.Struct("<HH")        # e_phentsize, e_phnum at 54
PHDR = struct.Struct("<IIQQQQQQ")       # type flags offset vaddr paddr filesz memsz align
HALTED = r"^Kestrel: boot halted$"
NO_KERNEL = r"^stage2: entering long mode"


# ------------------------------------------------------------------ kernel corruptions

def phdrs(elf):
    """(file offset of the header, fields) for every program header."""
    (phoff,) = ELF_PHOFF.unpack_from(elf, 32)
    phentsize, phnum = ELF_PHNUM.unpack_from(elf, 54)
    for i in range(phnum):
        off = phoff + i * phentsize
        yield off, list(PHDR.unpack_from(elf, off))


def bad_magic(elf):
    elf = bytearray(elf)
    elf[3] = ord("X")
    return bytes(elf)


def truncated(elf):
    """Cut inside the loadable bytes (what follows them, symbols and section
    headers, is not needed to boot, so cutting only that must still work)."""
    end = max(ph[2] + ph[5] for _, ph in phdrs(elf) if ph[0] == PT_LOAD)
    return elf[:end // 2]


def too_large(elf, end=64 * MIB):
    """Grow the highest PT_LOAD's memsz so the image ends at `end`."""
    elf = bytearray(elf)
    off, ph = max((p for p in phdrs(elf) if p[1][0] == PT_LOAD), key=lambda p: p[1][4] + p[1][6])
    ph[6] = end - ph[4]
    PHDR.pack_into(elf, off, *ph)
    return bytes(elf)


def without_note(elf):
    """Rename the Kestrel note inside the PT_NOTE segment to "Kestrex"."""
    elf = bytearray(elf)
    for _, ph in phdrs(elf):
        if ph[0] == PT_NOTE:
            at = elf.find(b"Kestrel\0", ph[2], ph[2] + ph[5])
            if at >= 0:
                elf[at + 6] = ord("x")
                return bytes(elf)
    raise RuntimeError("kestrel.elf has no Kestrel note to corrupt")


# ------------------------------------------------------------------ images

def artifacts():
    paths = {n: BUILD / n for n in ("stage1.bin", "stage2.bin", "kestrel.elf", "bootx64.efi")}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"missing {', '.join(missing)} (run: make)")
    return {n: p.read_bytes() for n, p in paths.items()}


def image(art, kernel=None, initrd=b""):
    return mkimage.build(art["stage1.bin"], art["stage2.bin"],
                         kernel if kernel is not None else art["kestrel.elf"], initrd, "",
                         art["bootx64.efi"])


def stage2_missing(art):
    img = bytearray(image(art))
    img[mkimage.STAGE2_LBA * mkimage.SECTOR] ^= 0xFF      # break the magic
    return bytes(img)


def disk_too_short(art):
    """The partition table promises a kernel the disk does not have."""
    keep = mkimage.PART_START_LBA + 8
    return image(art)[:keep * mkimage.SECTOR]


def stage2_cut_short(art):
    """MBR, GPT and stage 2's header sector only: stage 1's second read fails."""
    return image(art)[:(mkimage.STAGE2_LBA + 1) * mkimage.SECTOR]


def flip(offset):
    """The image with one byte inverted (a CRC-32 covers it)."""
    def make(art):
        img = bytearray(image(art))
        img[offset] ^= 0xFF
        return bytes(img)
    return make


def regpt(change):
    """The image with its GPT rewritten, valid CRCs and all, after
    change(entries) edited the list of 128-byte entries."""
    def make(art):
        img = bytearray(image(art))
        total = len(img) // mkimage.SECTOR
        disk_guid = mkimage.uuid.UUID(bytes_le=bytes(img[mkimage.SECTOR + 56:][:16]))
        raw = img[2 * mkimage.SECTOR:][:mkimage.GPT_ENTRY_COUNT * mkimage.GPT_ENTRY_SIZE]
        entries = [bytearray(raw[i:i + mkimage.GPT_ENTRY_SIZE])
                   for i in range(0, len(raw), mkimage.GPT_ENTRY_SIZE) if any(raw[i:i + 16])]
        change(entries[mkimage.GPT_KESTREL_ENTRY - 1])
        mkimage.write_gpt(img, total, disk_guid, [bytes(e) for e in entries])
        return bytes(img)
    return make


def move_by_1mib(entry):
    first, last = struct.unpack_from("<QQ", entry, 32)
    struct.pack_into("<QQ", entry, 32, first + 2048, last + 2048)


def untype(entry):
    entry[0] ^= 0xFF


GPT_HEADER_BYTE = mkimage.SECTOR + 40           # inside the primary header's first usable LBA
GPT_ENTRY_BYTE = 2 * mkimage.SECTOR + 130       # entry 2's type GUID
KESTREL_LBAS = rf"LBA {mkimage.PART_START_LBA + 2048}-\d+"
FLOPPY_BYTES = 1474560          # a 1.44 MB floppy: SeaBIOS has no EDD for it


def as_floppy(art):
    return image(art)[:FLOPPY_BYTES]


@dataclass
class Case:
    name: str
    make: object                # art -> image bytes
    require: tuple              # regexes (re.M), all must appear
    forbid: tuple = (NO_KERNEL,)
    mem: str = "512M"
    cpu: str = None
    floppy: bool = False        # boot the image as drive A: instead of C:


CASES = [
    Case("valid_image_reaches_kernel", lambda a: image(a),
         (NO_KERNEL, r"^Kestrel \S+ \(kestrel-bios\)"), forbid=(r"^Kestrel: ",)),
    Case("bad_elf_magic", lambda a: image(a, bad_magic(a["kestrel.elf"])),
         (r"^Kestrel: bad kernel ELF: bad ELF magic$", HALTED)),
    Case("truncated_kernel", lambda a: image(a, truncated(a["kestrel.elf"])),
         (r"^Kestrel: bad kernel ELF: segment out of file bounds$", HALTED)),
    Case("kernel_too_large", lambda a: image(a, too_large(a["kestrel.elf"])),
         (r"^Kestrel: kernel too large: needs 64512 KiB, loader supports \d+ KiB$", HALTED)),
    Case("missing_entry_note", lambda a: image(a, without_note(a["kestrel.elf"])),
         (r"^Kestrel: bad kernel ELF: no Kestrel entry note$", HALTED)),
    Case("disk_read_error", disk_too_short,
         (rf"^Kestrel: disk read error at LBA {mkimage.PART_START_LBA} \(drive 0x80\)$", HALTED)),
    Case("not_enough_memory", lambda a: image(a, initrd=bytes(40 * MIB)),
         (r"^Kestrel: not enough memory: ", HALTED), mem="32M"),
    Case("no_long_mode", lambda a: image(a),
         (r"^Kestrel: CPU does not support long mode \(x86-64\)$", HALTED), cpu="qemu32"),
    # The GPT (boot/gpt.c): damage is a warning and the boot goes on from the
    # image table; a sound GPT that moved the Kestrel partition halts.
    Case("gpt_header_damaged", flip(GPT_HEADER_BYTE),
         (r"^stage2: warning: no valid GPT \(header CRC32 mismatch\); using the image table "
          r"as it is$", NO_KERNEL), forbid=(r"^Kestrel: ",)),
    Case("gpt_entries_damaged", flip(GPT_ENTRY_BYTE),
         (r"^stage2: warning: no valid GPT \(entry array CRC32 mismatch\); ", NO_KERNEL),
         forbid=(r"^Kestrel: ",)),
    Case("gpt_kestrel_moved", regpt(move_by_1mib),
         (rf"^Kestrel: image table does not match GPT entry 2 \(Kestrel, {KESTREL_LBAS}\): "
          r"rebuild the image with tools/mkimage.py$", HALTED)),
    Case("gpt_no_kestrel", regpt(untype),
         (r"^Kestrel: the GPT has no Kestrel partition \(type 075CCA39-8580-412A-AD46-"
          r"E41030E6378B\)$", HALTED)),
    Case("stage2_missing", stage2_missing, (r"^Kestrel: stage2 missing$",)),
    Case("stage1_disk_read_error", stage2_cut_short, (r"^Kestrel: disk read error$",)),
    Case("no_int13_extensions", as_floppy, (r"^Kestrel: no INT13 extensions$",), floppy=True),
]


def qemu_argv(case, img, serial):
    argv = qemu.build_argv("img", 1, case.mem, "pc", serial=str(serial), cpu=case.cpu,
                           image=str(img), accel="tcg")
    if case.floppy:
        path = qemu.qemu_escape(str(img))
        argv[argv.index("-drive") + 1] = f"if=floppy,format=raw,snapshot=on,file={path}"
        argv[argv.index("-boot") + 1] = "order=a"
    return argv


# ------------------------------------------------------------------ running

def boot(case, art):
    """Boot the case's image until its lines appear, QEMU exits, or timeout."""
    workdir = tempfile.mkdtemp(prefix=f"kestrel-ldr-{case.name}-")
    result = harness.BootResult(harness.BootSpec(case.name, mem=case.mem), workdir=workdir)
    try:
        img = Path(workdir) / "disk.img"
        img.write_bytes(case.make(art))
        serial = Path(workdir) / "serial.log"
        result.argv = qemu_argv(case, img, serial)
        start = time.monotonic()
        deadline = start + TIMEOUT * harness.TIMEOUT_SCALE
        with open(Path(workdir) / "qemu.stderr", "w+b") as err:
            proc = harness.start_qemu(result.argv, err)
            try:
                while True:
                    raw = serial.read_bytes() if serial.exists() else b""
                    result.log = harness.clean_serial(raw)
                    if all(re.search(rx, result.log, re.M) for rx in case.require):
                        break
                    if proc.poll() is not None:
                        result.status = proc.returncode
                        result.failures.append("QEMU exited before the expected lines")
                        break
                    if time.monotonic() > deadline:
                        result.timed_out = True
                        result.failures.append("timed out (a timeout is never a pass)")
                        break
                    time.sleep(POLL_SECONDS)
            finally:
                harness.kill_qemu(proc)
            result.seconds = time.monotonic() - start
            err.seek(0)
            result.stderr = err.read().decode("utf-8", errors="replace")
        for rx in case.require:
            if not re.search(rx, result.log, re.M):
                result.failures.append(f"missing line matching /{rx}/")
        for rx in case.forbid:
            m = re.search(rx, result.log, re.M)
            if m:
                result.failures.append(f"forbidden line matching /{rx}/: {m.group(0)!r}")
    except Exception as e:          # a broken case is a failure, not a crash
        result.failures.append(f"{type(e).__name__}: {e}")
    if result.ok:
        shutil.rmtree(workdir, ignore_errors=True)
        result.workdir = None
    return result


def main(argv):
    verbose = "-v" in argv or "--verbose" in argv
    harness.install_signal_handlers()
    rep = harness.Reporter(len(CASES), "loader_errors")
    try:
        art = artifacts()
    except FileNotFoundError as e:
        for case in CASES:
            rep.result(case.name, False, 0.0, str(e))
        return rep.finish()
    with concurrent.futures.ThreadPoolExecutor(max_workers=harness.DEFAULT_JOBS) as pool:
        for f in concurrent.futures.as_completed([pool.submit(boot, c, art) for c in CASES]):
            result = f.result()
            if not result.ok:
                harness.failure_report(result)
            elif verbose:
                harness.diag(result.log or "(empty)", prefix=f"# {result.spec.name} | ")
            rep.result(result.spec.name, result.ok, result.seconds,
                       "timeout" if result.timed_out else "")
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
