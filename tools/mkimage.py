#!/usr/bin/env python3
"""Build Kestrel's raw BIOS disk image (layout in include/boot/loader.h):

  LBA 0          stage 1 (MBR) with a disk signature and one partition entry
  LBA 1 ..       stage 2; its header sector gets the kernel/initrd table
  LBA 2048 ..    the Kestrel partition: kernel ELF file, then the initrd,
                 each sector aligned; the image is padded to whole MiB

Python 3 standard library only. Constants mirror include/boot/loader.h.
"""

import argparse
import os
import struct
import sys
import tempfile
import zlib

SECTOR = 512                    # DISK_SECTOR_SIZE
STAGE2_LBA = 1
PART_START_LBA = 2048           # 1 MiB aligned
MIB_SECTORS = (1 << 20) // SECTOR
KESTREL_PART_TYPE = 0x7F        # "reserved for experimental OSes"
PART_BOOTABLE = 0x80
MBR_DISK_SIG_OFF = 0x1B8
MBR_PART_TABLE_OFF = 0x1BE
MBR_PART_ENTRY_SIZE = 16
MBR_PART_ENTRIES = 4
MBR_BOOT_SIG_OFF = 0x1FE
MBR_BOOT_SIG = b"\x55\xaa"

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

# CHS for the partition entry: the usual LBA-assist geometry (255 heads, 63
# sectors per track); beyond cylinder 1023 the entry says "use the LBA".
CHS_HEADS = 255
CHS_SECTORS = 63
CHS_MAX_CYL = 1023


class ImageError(Exception):
    pass


def sectors_for(nbytes):
    return (nbytes + SECTOR - 1) // SECTOR


def pad_to_sectors(data):
    return data + bytes(sectors_for(len(data)) * SECTOR - len(data))


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
    return raw


def build(stage1, stage2, kernel, initrd, cmdline):
    """Return the image bytes."""
    check_stage1(stage1)
    check_stage2(stage2)
    if not kernel:
        raise ImageError("kernel file is empty")
    cmd = encode_cmdline(cmdline)

    kernel_lba = PART_START_LBA
    initrd_lba = kernel_lba + sectors_for(len(kernel))
    data_end = initrd_lba + sectors_for(len(initrd))
    total = -(-data_end // MIB_SECTORS) * MIB_SECTORS          # whole MiB
    part_sectors = total - PART_START_LBA
    if total > 0xFFFFFFFF:
        raise ImageError("image too large for an MBR partition table")

    s2 = bytearray(pad_to_sectors(stage2))
    HDR_TABLE.pack_into(s2, HDR_TABLE_OFF, STAGE2_F_FILLED, PART_START_LBA, part_sectors, 0,
                        kernel_lba, len(kernel), initrd_lba if initrd else 0, len(initrd))
    s2[HDR_CMDLINE_OFF:HDR_CMDLINE_OFF + STAGE2_CMDLINE_LEN] = cmd.ljust(STAGE2_CMDLINE_LEN, b"\0")

    mbr = bytearray(stage1)
    body = bytes(s2) + pad_to_sectors(kernel) + pad_to_sectors(initrd)
    # A stable, content-derived signature: reproducible builds, rarely 0.
    mbr[MBR_DISK_SIG_OFF:MBR_DISK_SIG_OFF + 4] = struct.pack("<I", zlib.crc32(body) or 1)
    entry = (bytes([PART_BOOTABLE]) + chs(PART_START_LBA) + bytes([KESTREL_PART_TYPE]) +
             chs(total - 1) + struct.pack("<II", PART_START_LBA, part_sectors))
    assert len(entry) == MBR_PART_ENTRY_SIZE
    mbr[MBR_PART_TABLE_OFF:MBR_PART_TABLE_OFF + MBR_PART_ENTRY_SIZE] = entry

    img = bytearray(total * SECTOR)
    img[0:SECTOR] = mbr
    img[STAGE2_LBA * SECTOR:STAGE2_LBA * SECTOR + len(s2)] = s2
    img[kernel_lba * SECTOR:kernel_lba * SECTOR + len(kernel)] = kernel
    img[initrd_lba * SECTOR:initrd_lba * SECTOR + len(initrd)] = initrd
    return bytes(img)


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
    p = argparse.ArgumentParser(description="Build Kestrel's raw BIOS disk image.")
    p.add_argument("--stage1", required=True, help="stage 1 (MBR) binary, 512 bytes")
    p.add_argument("--stage2", required=True, help="stage 2 binary (header sector first)")
    p.add_argument("--kernel", required=True, help="kernel ELF file")
    p.add_argument("--initrd", help="initrd file, handed to the kernel as module 'initrd'")
    p.add_argument("--cmdline", default="", help="default kernel command line")
    p.add_argument("-o", "--output", required=True, help="image to write")
    args = p.parse_args(argv)
    try:
        img = build(read_file(args.stage1, "stage 1"), read_file(args.stage2, "stage 2"),
                    read_file(args.kernel, "kernel"),
                    read_file(args.initrd, "initrd") if args.initrd else b"", args.cmdline)
        write_atomically(args.output, img)
    except ImageError as e:
        print(f"mkimage.py: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
