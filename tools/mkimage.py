#!/usr/bin/env python3
"""Build build/kestrel.img, Kestrel's one disk image for BIOS and UEFI PCs
(the `make usb` default): a GPT disk with a protective MBR.

  LBA 0            protective MBR: stage 1's code, one 0xEE entry over the
                   whole disk (UEFI 2.10, 5.2.3); no hybrid entries
  LBA 1            primary GPT header
  LBA 2 .. 33      primary partition entry array (128 entries of 128 bytes)
  LBA 34 .. 2047   GPT entry 1, "BIOS boot" type: stage 2, its header
                   sector first (the rest of the partition zero)
  LBA 2048 ..      GPT entry 2, Kestrel type (KESTREL_PART_GUID): the
                   kernel ELF file, then the initrd, each starting on a
                   sector boundary, the partition padded to a whole MiB
  next MiB ..      GPT entry 3, EFI system partition (ESP_BYTES, FAT16, made
                   with mtools): \\EFI\\BOOT\\BOOTX64.EFI (GRUB) and
                   \\EFI\\BOOT\\grub.cfg, which this tool writes
  last 33 LBAs     backup entry array, then the backup GPT header on the
                   disk's last LBA; the image is a whole number of MiB

BIOS: stage 1 loads stage 2 from STAGE2_LBA; stage 2 reads the kernel and
initrd at the absolute LBAs of its header table (filled in here), and checks
them against the GPT's Kestrel entry. UEFI: the firmware starts GRUB from
the ESP; grub.cfg names the kernel and initrd as GRUB block lists inside the
Kestrel partition, the very sectors stage 2 reads, so both loaders boot the
same bytes from one copy. The initrd is padded to whole sectors (block lists
read whole sectors) and both loaders are told that padded size.

Why no hybrid MBR: stage 2 needs no MBR partition entry (its header table
names the sectors), and a hybrid MBR breaks the UEFI rule that a GPT disk's
MBR is protective, which firmwares and OS tools handle inconsistently. The
0xEE entry is not marked active (UEFI says BootIndicator 0); a few old BIOSes
boot only disks with an active MBR entry (docs/architecture.md).

Python 3 standard library, plus mtools (mformat, mmd, mcopy) for the ESP.
Constants mirror include/boot/loader.h.
"""

import argparse
import hashlib
import os
import re
import struct
import subprocess
import sys
import tempfile
import uuid
import zlib

SECTOR = 512                    # DISK_SECTOR_SIZE
MIB_SECTORS = (1 << 20) // SECTOR
STAGE2_LBA = 34                 # first LBA after the primary GPT
PART_START_LBA = 2048           # the Kestrel partition, 1 MiB aligned
ESP_BYTES = 4 << 20             # FAT16 with 1-sector clusters (> 4084 clusters)
ESP_LABEL = "KESTREL-ESP"       # FAT volume label, at most 11 characters
MBR_DISK_SIG_OFF = 0x1B8
MBR_PART_TABLE_OFF = 0x1BE
MBR_PART_ENTRY_SIZE = 16
MBR_BOOT_SIG_OFF = 0x1FE
MBR_BOOT_SIG = b"\x55\xaa"
MBR_TYPE_GPT_PROTECTIVE = 0xEE

# GPT (UEFI 2.10, chapter 5.3)
GPT_SIGNATURE = b"EFI PART"
GPT_REVISION = 0x00010000
GPT_HEADER_SIZE = 92
GPT_ENTRY_COUNT = 128
GPT_ENTRY_SIZE = 128
GPT_ENTRY_SECTORS = GPT_ENTRY_COUNT * GPT_ENTRY_SIZE // SECTOR      # 32
GPT_NAME_CHARS = 36             # UTF-16LE code units in an entry's name
# signature, revision, header size, header CRC32, reserved, my LBA, alternate
# LBA, first usable, last usable, disk GUID, entries LBA, entry count, entry
# size, entries CRC32
GPT_HEADER = struct.Struct("<8sIIII QQQQ 16s QIII")
GPT_ENTRY = struct.Struct("<16s16sQQQ72s")     # type, unique, first, last, attributes, name
GPT_HEADER_CRC_OFF = 16
assert GPT_HEADER.size == GPT_HEADER_SIZE and GPT_ENTRY.size == GPT_ENTRY_SIZE

# Partition type GUIDs. KESTREL_PART_GUID is Kestrel's own (a random UUID,
# docs/architecture.md); BIOS boot is the type GRUB and sgdisk (EF02) use for
# boot code outside any filesystem; the ESP's is UEFI's.
KESTREL_PART_GUID = uuid.UUID("075cca39-8580-412a-ad46-e41030e6378b")
BIOS_BOOT_GUID = uuid.UUID("21686148-6449-6e6f-744e-656564454649")
ESP_GUID = uuid.UUID("c12a7328-f81f-11d2-ba4b-00a0c93ec93b")
# GPT entry numbers as GRUB names them ((hdN,gptK)); entries in disk order.
GPT_STAGE2_ENTRY, GPT_KESTREL_ENTRY, GPT_ESP_ENTRY = 1, 2, 3

STAGE2_MAGIC = 0x3254534B       # "KST2"
STAGE2_HDR_VERSION = 1
STAGE2_F_FILLED = 1 << 0
STAGE2_MAX_SECTORS = (0x070000 - 0x008000) // SECTOR    # STAGE2_LIMIT - STAGE2_LOAD_ADDR
STAGE2_CMDLINE_LEN = 256
# struct stage2_header: magic, sectors, version, then the table written here.
HDR_FIXED = struct.Struct("<IHH")
HDR_TABLE = struct.Struct("<IIIIQQQQ")   # flags, part_lba, part_sectors, reserved0,
HDR_TABLE_OFF = 8                        # kernel_lba, kernel_size, initrd_lba, initrd_size
HDR_CMDLINE_OFF = 64

# CHS for the protective entry: the usual LBA-assist geometry (255 heads, 63
# sectors per track); beyond cylinder 1023 the entry says "use the LBA".
CHS_HEADS = 255
CHS_SECTORS = 63
CHS_MAX_CYL = 1023

# The FAT geometry fields mean nothing on an LBA disk; mtools wants them.
FAT_HEADS = 64
FAT_TRACK_SECTORS = 32
FAT_MEDIA_FIXED = 0xF8

EFI_BOOT_DIR = "::/EFI/BOOT"
EFI_BOOT_FILE = EFI_BOOT_DIR + "/BOOTX64.EFI"   # UEFI 2.10, 3.5.1.1 (x64 removable media)
EFI_GRUB_CFG = EFI_BOOT_DIR + "/grub.cfg"       # GRUB's $prefix is /EFI/BOOT (Makefile)


GRUB_CHANGES = "\"'\\"         # characters GRUB's multiboot2 escapes in the command line


class ImageError(Exception):
    pass


def sectors_for(nbytes):
    return (nbytes + SECTOR - 1) // SECTOR


def pad_to_sectors(data):
    return data + bytes(sectors_for(len(data)) * SECTOR - len(data))


def align_up(n, a):
    return -(-n // a) * a


def read_file(path, what):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise ImageError(f"cannot read {what} {path}: {e.strerror}")


def chs(lba):
    """The 3 CHS bytes of an MBR partition entry for this LBA."""
    cyl = lba // (CHS_HEADS * CHS_SECTORS)
    head = (lba // CHS_SECTORS) % CHS_HEADS
    sect = lba % CHS_SECTORS + 1
    if cyl > CHS_MAX_CYL:
        cyl, head, sect = CHS_MAX_CYL, CHS_HEADS - 1, CHS_SECTORS
    return bytes([head, (sect & 0x3F) | ((cyl >> 2) & 0xC0), cyl & 0xFF])


def check_stage1(mbr):
    if len(mbr) != SECTOR or mbr[MBR_BOOT_SIG_OFF:] != MBR_BOOT_SIG:
        raise ImageError(f"stage 1 must be {SECTOR} bytes ending in 55 AA (got {len(mbr)} bytes)")
    if any(mbr[MBR_DISK_SIG_OFF:MBR_BOOT_SIG_OFF]):
        raise ImageError("stage 1 overlaps the disk signature / partition table area")


def check_stage2(stage2):
    if len(stage2) < SECTOR:
        raise ImageError("stage 2 is smaller than its header sector")
    magic, nsect, version = HDR_FIXED.unpack_from(stage2, 0)
    if magic != STAGE2_MAGIC:
        raise ImageError(f"stage 2 has no header (magic {magic:#x}, expected {STAGE2_MAGIC:#x})")
    if version != STAGE2_HDR_VERSION:
        raise ImageError(f"stage 2 header version {version}, this tool writes {STAGE2_HDR_VERSION}")
    if nsect != sectors_for(len(stage2)):
        raise ImageError(f"stage 2 header says {nsect} sectors, "
                         f"the file has {sectors_for(len(stage2))}")
    gap = PART_START_LBA - STAGE2_LBA
    if nsect > gap:
        raise ImageError(f"stage 2 ({nsect} sectors) does not fit in the gap before the "
                         f"partition ({gap} sectors)")
    if nsect > STAGE2_MAX_SECTORS:
        raise ImageError(f"stage 2 ({nsect} sectors) exceeds its memory window "
                         f"({STAGE2_MAX_SECTORS} sectors)")


def encode_cmdline(cmdline):
    raw = cmdline.encode("utf-8")
    if b"\0" in raw:
        raise ImageError("command line contains a NUL byte")
    if len(raw) >= STAGE2_CMDLINE_LEN:
        raise ImageError(f"command line is {len(raw)} bytes, at most {STAGE2_CMDLINE_LEN - 1} fit")
    # GRUB's multiboot2 joins its arguments with single spaces and puts a
    # backslash before quotes and backslashes: only such a line reaches the
    # kernel from GRUB exactly as stage 2 hands it over.
    bad = sorted(set(c for c in cmdline if c in GRUB_CHANGES or (c.isspace() and c != " ")))
    if bad or "  " in cmdline or cmdline != cmdline.strip():
        raise ImageError("the command line must be words separated by single spaces, with no "
                         "quotes, backslashes or other blanks"
                         + (f" (found {', '.join(repr(c) for c in bad)})" if bad else "")
                         + ": GRUB would pass it to the kernel changed")
    return raw


# ------------------------------------------------------------------ GPT

def content_guid(seed, what):
    """A GUID derived from the image's content: reproducible builds, and
    two different builds still get different disk/partition GUIDs."""
    return uuid.UUID(bytes=hashlib.sha256(seed + what.encode()).digest()[:16], version=4)


def gpt_entry(type_guid, unique_guid, first, last, name, attributes=0):
    """One 128-byte partition entry; first and last LBA are inclusive."""
    enc = name.encode("utf-16-le")
    if len(enc) > GPT_NAME_CHARS * 2:
        raise ImageError(f"partition name {name!r} is longer than {GPT_NAME_CHARS} characters")
    return GPT_ENTRY.pack(type_guid.bytes_le, unique_guid.bytes_le, first, last, attributes, enc)


def gpt_entry_array(entries):
    """The whole array (GPT_ENTRY_COUNT entries, unused ones zero)."""
    if len(entries) > GPT_ENTRY_COUNT:
        raise ImageError(f"{len(entries)} partitions, a GPT here holds {GPT_ENTRY_COUNT}")
    return b"".join(entries).ljust(GPT_ENTRY_COUNT * GPT_ENTRY_SIZE, b"\0")


def gpt_header(my_lba, alternate_lba, entries_lba, total, disk_guid, array):
    """One header sector (92 bytes, the rest zero), its CRC32 filled in."""
    fields = [GPT_SIGNATURE, GPT_REVISION, GPT_HEADER_SIZE, 0, 0, my_lba, alternate_lba,
              gpt_first_usable(), gpt_last_usable(total), disk_guid.bytes_le, entries_lba,
              GPT_ENTRY_COUNT, GPT_ENTRY_SIZE, zlib.crc32(array)]
    hdr = bytearray(GPT_HEADER.pack(*fields))
    struct.pack_into("<I", hdr, GPT_HEADER_CRC_OFF, zlib.crc32(hdr))
    return bytes(hdr).ljust(SECTOR, b"\0")


def gpt_first_usable():
    return 2 + GPT_ENTRY_SECTORS


def gpt_last_usable(total):
    return total - 2 - GPT_ENTRY_SECTORS


def protective_mbr(stage1, total):
    """Stage 1's code with one 0xEE entry from LBA 1 to the end of the disk
    (size capped at 0xFFFFFFFF for disks over 2 TiB), not marked active."""
    mbr = bytearray(stage1)
    size = min(total - 1, 0xFFFFFFFF)
    entry = (bytes([0]) + chs(1) + bytes([MBR_TYPE_GPT_PROTECTIVE]) + chs(total - 1) +
             struct.pack("<II", 1, size))
    assert len(entry) == MBR_PART_ENTRY_SIZE
    mbr[MBR_PART_TABLE_OFF:MBR_PART_TABLE_OFF + MBR_PART_ENTRY_SIZE] = entry
    return bytes(mbr)


def write_gpt(img, total, disk_guid, entries):
    """Primary and backup GPT into the image bytearray img of total sectors."""
    array = gpt_entry_array(entries)
    backup_array_lba = total - 1 - GPT_ENTRY_SECTORS
    img[SECTOR:2 * SECTOR] = gpt_header(1, total - 1, 2, total, disk_guid, array)
    img[2 * SECTOR:2 * SECTOR + len(array)] = array
    img[backup_array_lba * SECTOR:(backup_array_lba + GPT_ENTRY_SECTORS) * SECTOR] = array
    img[(total - 1) * SECTOR:total * SECTOR] = gpt_header(total - 1, 1, backup_array_lba, total,
                                                          disk_guid, array)


# ------------------------------------------------------------------ ESP

def grub_quote(word):
    """A GRUB script word that stays exactly this text ('' quoting)."""
    return "'" + word.replace("'", "'\\''") + "'"


def grub_config(kernel_sectors, initrd_sectors, cmdline):
    """\\EFI\\BOOT\\grub.cfg: kernel and initrd as block lists in the Kestrel
    partition (offsets relative to its start), on the disk GRUB started
    from ($cmdpath is like (hd0,gpt3)/EFI/BOOT). The command line is stage
    2's, word by word (GRUB joins the words with single spaces)."""
    words = " ".join(grub_quote(w) for w in cmdline.split())
    kernel = f"($kestrel_disk,gpt{GPT_KESTREL_ENTRY})0+{kernel_sectors}"
    lines = [
        "# Written by tools/mkimage.py for build/kestrel.img: GRUB (UEFI) boots the",
        "# kernel and initrd that stage 2 (BIOS) boots, read as block lists from",
        f"# GPT entry {GPT_KESTREL_ENTRY} (the Kestrel partition). Console mirrored to COM1.",
        "serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1",
        "terminal_input serial console",
        "terminal_output serial console",
        "set timeout=0",
        "set default=0",
        "if ! regexp --set=1:kestrel_disk '^\\(([^,)]+)' \"$cmdpath\"; then",
        "\techo \"Kestrel: cannot tell the boot disk from cmdpath '$cmdpath'\"",
        "fi",
        'menuentry "Kestrel" {',
        f"\tmultiboot2 {kernel}" + (f" {words}" if words else ""),
    ]
    if initrd_sectors:
        lines.append(f"\tmodule2 ($kestrel_disk,gpt{GPT_KESTREL_ENTRY})"
                     f"{kernel_sectors}+{initrd_sectors} initrd")
    lines += ["\tboot", "}", ""]
    return "\n".join(lines)


FAT_EPOCH = 315532800           # 1980-01-01 00:00 UTC, FAT's first date


def run_mtools(argv):
    # Files dated SOURCE_DATE_EPOCH (mtools honours it), else FAT_EPOCH, in
    # UTC: the same inputs give the same image, byte for byte.
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1", TZ="UTC",
               SOURCE_DATE_EPOCH=os.environ.get("SOURCE_DATE_EPOCH", str(FAT_EPOCH)))
    try:
        r = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=60)
    except FileNotFoundError:
        raise ImageError(f"{argv[0]} not found: the ESP needs mtools (run: bash tools/setup.sh)")
    if r.returncode != 0:
        raise ImageError(f"{' '.join(argv)} failed: {(r.stderr or r.stdout).strip()}")


def make_esp(efi_app, cfg, start_lba, sectors, serial):
    """The ESP's bytes: a FAT16 volume holding GRUB and its grub.cfg."""
    with tempfile.TemporaryDirectory(prefix="kestrel-esp-") as d:
        vol, cfg_path, app_path = (os.path.join(d, n) for n in ("esp.img", "grub.cfg", "boot.efi"))
        with open(vol, "wb") as f:
            f.truncate(sectors * SECTOR)
        with open(cfg_path, "w") as f:
            f.write(cfg)
        with open(app_path, "wb") as f:
            f.write(efi_app)
        run_mtools(["mformat", "-i", vol, "-c", "1", "-T", str(sectors), "-h", str(FAT_HEADS),
                    "-s", str(FAT_TRACK_SECTORS), "-H", str(start_lba),
                    "-m", f"{FAT_MEDIA_FIXED:#x}", "-N", f"{serial:08x}", "-v", ESP_LABEL, "::"])
        run_mtools(["mmd", "-i", vol, "::/EFI", EFI_BOOT_DIR])
        run_mtools(["mcopy", "-i", vol, app_path, EFI_BOOT_FILE])
        run_mtools(["mcopy", "-i", vol, cfg_path, EFI_GRUB_CFG])
        with open(vol, "rb") as f:
            data = f.read()
    if len(data) != sectors * SECTOR:
        raise ImageError(f"mformat changed the ESP's size to {len(data)} bytes")
    return data


# ------------------------------------------------------------------ image

def build(stage1, stage2, kernel, initrd, cmdline, efi_app=None):
    """Return the image bytes. efi_app: GRUB's BOOTX64.EFI; None builds the
    same layout without an ESP (a BIOS-only image, for host tests)."""
    check_stage1(stage1)
    check_stage2(stage2)
    if not kernel:
        raise ImageError("kernel file is empty")
    cmd = encode_cmdline(cmdline)
    if efi_app is not None and not efi_app.startswith(b"MZ"):
        raise ImageError("the EFI application is not a PE file (no MZ header)")
    initrd = pad_to_sectors(initrd)

    kernel_lba = PART_START_LBA
    kernel_sectors = sectors_for(len(kernel))
    initrd_lba = kernel_lba + kernel_sectors
    part_end = align_up(initrd_lba + sectors_for(len(initrd)), MIB_SECTORS)
    part_sectors = part_end - PART_START_LBA
    esp_lba, esp_sectors = part_end, (ESP_BYTES // SECTOR if efi_app is not None else 0)
    total = align_up(esp_lba + esp_sectors + 1 + GPT_ENTRY_SECTORS, MIB_SECTORS)
    if part_end > 0xFFFFFFFF:
        raise ImageError("the Kestrel partition must lie below LBA 2^32 (stage 2's table)")

    s2 = bytearray(pad_to_sectors(stage2))
    HDR_TABLE.pack_into(s2, HDR_TABLE_OFF, STAGE2_F_FILLED, PART_START_LBA, part_sectors, 0,
                        kernel_lba, len(kernel), initrd_lba if initrd else 0, len(initrd))
    s2[HDR_CMDLINE_OFF:HDR_CMDLINE_OFF + STAGE2_CMDLINE_LEN] = cmd.ljust(STAGE2_CMDLINE_LEN, b"\0")
    seed = hashlib.sha256(bytes(s2) + kernel + initrd + (efi_app or b"")).digest()

    entries = [gpt_entry(BIOS_BOOT_GUID, content_guid(seed, "stage2"), STAGE2_LBA,
                         PART_START_LBA - 1, "Kestrel stage 2"),
               gpt_entry(KESTREL_PART_GUID, content_guid(seed, "kestrel"), PART_START_LBA,
                         part_end - 1, "Kestrel")]
    if efi_app is not None:
        entries.append(gpt_entry(ESP_GUID, content_guid(seed, "esp"), esp_lba,
                                 esp_lba + esp_sectors - 1, "EFI system partition"))
    assert len(entries) >= GPT_KESTREL_ENTRY and entries[GPT_KESTREL_ENTRY - 1][:16] == \
        KESTREL_PART_GUID.bytes_le

    img = bytearray(total * SECTOR)
    img[0:SECTOR] = protective_mbr(stage1, total)
    write_gpt(img, total, content_guid(seed, "disk"), entries)
    img[STAGE2_LBA * SECTOR:STAGE2_LBA * SECTOR + len(s2)] = s2
    img[kernel_lba * SECTOR:kernel_lba * SECTOR + len(kernel)] = kernel
    img[initrd_lba * SECTOR:initrd_lba * SECTOR + len(initrd)] = initrd
    if efi_app is not None:
        cfg = grub_config(kernel_sectors, sectors_for(len(initrd)), cmdline)
        serial = int.from_bytes(seed[:4], "little") or 1
        img[esp_lba * SECTOR:(esp_lba + esp_sectors) * SECTOR] = \
            make_esp(efi_app, cfg, esp_lba, esp_sectors, serial)
    return bytes(img)


# sgdisk -v says "No problems found" even after it silently fell back to a
# backup header, and even when it found no valid GPT at all (it then made
# an empty one in memory); these words in its output mean it saw damage.
SGDISK_ALARMS = ("warning", "caution", "error", "crc", "corrupt", "invalid", "damaged",
                 "creating new gpt")


def sgdisk_problems(path, partitions):
    """[] when `sgdisk -v` (package gdisk) finds path's GPT sound and
    `sgdisk -p` lists that many partitions, else what is wrong, line by
    line. Used by the tests, not by the build."""
    out = {}
    for opt in ("-v", "-p"):
        try:
            r = subprocess.run(["sgdisk", opt, str(path)], stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=60)
        except FileNotFoundError:
            return ["sgdisk not found (package gdisk; run: bash tools/setup.sh)"]
        out[opt] = (r.returncode, (r.stdout + r.stderr).replace("\a", ""))
    (vrc, vout), (prc, pout) = out["-v"], out["-p"]
    problems = []
    if vrc != 0 or "No problems found" not in vout or \
            any(w in (vout + pout).lower() for w in SGDISK_ALARMS):
        problems += [f"sgdisk -v {path}: status {vrc}"] + vout.strip().splitlines()
    listed = len(re.findall(r"^\s+\d+\s+\d+\s+\d+\s", pout, re.M))
    if prc != 0 or listed != partitions:
        problems += [f"sgdisk -p {path}: status {prc}, {listed} partitions, expected "
                     f"{partitions}"] + pout.strip().splitlines()
    return problems


def write_atomically(path, data):
    """A failed or interrupted run never leaves a half-written image."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".mkimage-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv=None):
    p = argparse.ArgumentParser(description="Build Kestrel's disk image for BIOS and UEFI.")
    p.add_argument("--stage1", required=True, help="stage 1 (MBR) binary, 512 bytes")
    p.add_argument("--stage2", required=True, help="stage 2 binary (header sector first)")
    p.add_argument("--kernel", required=True, help="kernel ELF file")
    p.add_argument("--initrd", help="initrd file, handed to the kernel as module 'initrd'")
    p.add_argument("--cmdline", default="", help="default kernel command line")
    p.add_argument("--efi", help="GRUB's x86-64 EFI image for the ESP (without: no ESP, "
                                 "BIOS only)")
    p.add_argument("-o", "--output", required=True, help="image to write")
    args = p.parse_args(argv)
    try:
        img = build(read_file(args.stage1, "stage 1"), read_file(args.stage2, "stage 2"),
                    read_file(args.kernel, "kernel"),
                    read_file(args.initrd, "initrd") if args.initrd else b"", args.cmdline,
                    read_file(args.efi, "EFI application") if args.efi else None)
        write_atomically(args.output, img)
    except ImageError as e:
        print(f"mkimage.py: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
