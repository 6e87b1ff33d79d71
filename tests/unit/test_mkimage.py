#!/usr/bin/env python3
"""Host tests of tools/mkimage.py's disk image writer: the protective MBR,
both GPT headers and entry arrays (read back here with a parser of our own,
CRC-32s recomputed), the partitions against stage 2's table, `sgdisk -v`
on good and on corrupted images, the ESP (mtools) and its grub.cfg, the
command-line rules and reproducibility. Small fake stage 1/2, kernel and
EFI files, so no build is needed. Prints KTAP."""

import os
import shutil
import struct
import subprocess
import sys
import tempfile
import traceback
import uuid
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import mkimage  # noqa: E402

SECTOR = 512
MIB = 1 << 20
ESP_TYPE = uuid.UUID("c12a7328-f81f-11d2-ba4b-00a0c93ec93b")       # UEFI 2.10, table 5.7
BIOS_BOOT_TYPE = uuid.UUID("21686148-6449-6e6f-744e-656564454649")
KESTREL_TYPE = uuid.UUID("075cca39-8580-412a-ad46-e41030e6378b")   # docs/architecture.md
HAVE_MTOOLS = all(shutil.which(t) for t in ("mformat", "mmd", "mcopy", "mtype"))


def fake_stage1():
    mbr = bytearray(SECTOR)
    mbr[0:3] = b"\xeb\x58\x90"
    mbr[510:512] = b"\x55\xaa"
    return bytes(mbr)


def fake_stage2(sectors=3):
    s2 = bytearray(sectors * SECTOR)
    struct.pack_into("<IHH", s2, 0, 0x3254534B, sectors, 1)
    s2[SECTOR:] = bytes([0xC3]) * (len(s2) - SECTOR)
    return bytes(s2)


def fake_efi():
    return b"MZ" + bytes(range(256)) * 40


KERNEL = b"\x7fELF" + bytes(range(251)) * 7         # 1761 bytes: not whole sectors
INITRD = b"ustar" * 300                              # 1500 bytes: padded to 1536


def build(cmdline="", efi=True, kernel=KERNEL, initrd=INITRD):
    return mkimage.build(fake_stage1(), fake_stage2(), kernel, initrd, cmdline,
                         fake_efi() if efi else None)


# ------------------------------------------------------------------ our own GPT reader

def read_header(img, lba):
    raw = img[lba * SECTOR:lba * SECTOR + SECTOR]
    (sig, rev, size, crc, _, my, alt, first, last, guid, elba, count, esize,
     ecrc) = struct.unpack_from("<8sIIII QQQQ 16s QIII", raw)
    zeroed = raw[:16] + b"\0\0\0\0" + raw[20:size]
    return dict(sig=sig, rev=rev, size=size, crc_ok=zlib.crc32(zeroed) == crc, my=my, alt=alt,
                first=first, last=last, guid=guid, elba=elba, count=count, esize=esize,
                ecrc=ecrc, rest_zero=not any(raw[size:]))


def read_entries(img, hdr):
    raw = img[hdr["elba"] * SECTOR:hdr["elba"] * SECTOR + hdr["count"] * hdr["esize"]]
    out = []
    for i in range(hdr["count"]):
        t, u, first, last, attrs, name = struct.unpack_from("<16s16sQQQ72s", raw, i * hdr["esize"])
        if any(t):
            out.append(dict(n=i + 1, type=uuid.UUID(bytes_le=t), uniq=uuid.UUID(bytes_le=u),
                            first=first, last=last, attrs=attrs,
                            name=name.decode("utf-16-le").rstrip("\0")))
    return raw, out


def stage2_table(img):
    hdr = img[mkimage.STAGE2_LBA * SECTOR:][:SECTOR]
    flags, plba, psec, _, klba, ksize, ilba, isize = struct.unpack_from("<IIIIQQQQ", hdr, 8)
    return dict(flags=flags, plba=plba, psec=psec, klba=klba, ksize=ksize, ilba=ilba, isize=isize,
                cmdline=hdr[64:64 + 256].split(b"\0")[0].decode())


def sgdisk_verify(img, partitions=3):
    with tempfile.NamedTemporaryFile(suffix=".img") as f:
        f.write(img)
        f.flush()
        return mkimage.sgdisk_problems(f.name, partitions)


# ------------------------------------------------------------------ tests

def test_protective_mbr():
    img = build()
    total = len(img) // SECTOR
    mbr = img[:SECTOR]
    assert mbr[:3] == fake_stage1()[:3] and mbr[510:] == b"\x55\xaa", "stage 1 code kept"
    boot, type_, start, size = mbr[446], mbr[446 + 4], *struct.unpack_from("<II", mbr, 446 + 8)
    assert (boot, type_, start, size) == (0, 0xEE, 1, total - 1), (boot, type_, start, size)
    assert mbr[446 + 1:446 + 4] == bytes([0, 2, 0]), "starting CHS 0/0/2 (UEFI 5.2.3)"
    assert not any(mbr[446 + 16:510]), "entries 2-4 empty: protective, not hybrid"
    assert not any(mbr[0x1B8:0x1BE]), "no MBR disk signature on a GPT disk"


def test_protective_mbr_caps_at_2tib():
    big = 1 << 33                      # 4 TiB in sectors
    mbr = mkimage.protective_mbr(fake_stage1(), big)
    start, size = struct.unpack_from("<II", mbr, 446 + 8)
    assert (start, size) == (1, 0xFFFFFFFF) and mbr[446 + 5:446 + 8] == b"\xfe\xff\xff", mbr[446:462]


def test_primary_and_backup_headers():
    img = build()
    total = len(img) // SECTOR
    assert len(img) % MIB == 0, "whole MiB"
    p, b = read_header(img, 1), read_header(img, total - 1)
    for h in (p, b):
        assert h["sig"] == b"EFI PART" and h["rev"] == 0x00010000 and h["size"] == 92, h
        assert h["crc_ok"] and h["rest_zero"], h
        assert (h["first"], h["last"]) == (34, total - 34), h
        assert (h["count"], h["esize"]) == (128, 128), h
    assert (p["my"], p["alt"], p["elba"]) == (1, total - 1, 2), p
    assert (b["my"], b["alt"], b["elba"]) == (total - 1, 1, total - 33), b
    assert p["guid"] == b["guid"] and any(p["guid"]), "one disk GUID"
    raw_p, _ = read_entries(img, p)
    raw_b, _ = read_entries(img, b)
    assert raw_p == raw_b, "backup entry array equals the primary"
    assert zlib.crc32(raw_p) == p["ecrc"] == b["ecrc"], "entry array CRC-32"


def test_partitions_match_stage2_table():
    img = build()
    total = len(img) // SECTOR
    _, parts = read_entries(img, read_header(img, 1))
    assert [(e["n"], e["type"]) for e in parts] == \
        [(1, BIOS_BOOT_TYPE), (2, KESTREL_TYPE), (3, ESP_TYPE)], parts
    assert len({e["uniq"] for e in parts}) == 3, "unique partition GUIDs"
    prev_last = 33
    for e in parts:
        assert prev_last < e["first"] <= e["last"] <= total - 34, (e, prev_last)
        prev_last = e["last"]
    stage2, kestrel, esp = parts
    t = stage2_table(img)
    assert stage2["first"] == mkimage.STAGE2_LBA == 34 and stage2["last"] == 2047, stage2
    assert (kestrel["first"], kestrel["last"] - kestrel["first"] + 1) == (t["plba"], t["psec"]), \
        (kestrel, t)
    assert kestrel["first"] % 2048 == 0 and esp["first"] % 2048 == 0, "1 MiB aligned"
    assert esp["last"] - esp["first"] + 1 == mkimage.ESP_BYTES // SECTOR, esp
    assert (t["klba"], t["ksize"]) == (2048, len(KERNEL)), t
    assert t["ilba"] == 2048 + mkimage.sectors_for(len(KERNEL)), t
    assert t["isize"] == 1536, "initrd padded to whole sectors for GRUB's block lists"
    assert img[t["klba"] * SECTOR:][:len(KERNEL)] == KERNEL
    assert img[t["ilba"] * SECTOR:][:1536] == INITRD + bytes(36)


def test_without_esp_same_kestrel_layout():
    a, b = build(efi=True), build(efi=False)
    _, parts = read_entries(b, read_header(b, 1))
    assert [e["type"] for e in parts] == [BIOS_BOOT_TYPE, KESTREL_TYPE], parts
    ta, tb = stage2_table(a), stage2_table(b)
    assert (ta["klba"], ta["ilba"], ta["plba"], ta["psec"]) == \
        (tb["klba"], tb["ilba"], tb["plba"], tb["psec"])


def test_sgdisk_accepts_the_image():
    for efi in (True, False):
        problems = sgdisk_verify(build(efi=efi), 3 if efi else 2)
        assert not problems, "\n".join(problems)


def test_sgdisk_rejects_corruption():
    """The check above can fail: a flipped header byte, a flipped entry byte,
    a lost backup header and two bad headers are each reported."""
    img = build()
    total = len(img) // SECTOR
    for off in (SECTOR + 40, 2 * SECTOR + 130, (total - 1) * SECTOR):
        bad = bytearray(img)
        bad[off] ^= 0xFF
        assert sgdisk_verify(bytes(bad)), f"sgdisk -v missed a flipped byte at {off}"
    # Both headers bad: sgdisk -v alone would make an empty GPT and say
    # "No problems found".
    bad = bytearray(img)
    bad[SECTOR + 40] ^= 0xFF
    bad[(total - 1) * SECTOR + 40] ^= 0xFF
    assert sgdisk_verify(bytes(bad)), "no valid GPT at all went unnoticed"


def test_esp_holds_grub_and_config():
    if not HAVE_MTOOLS:
        raise AssertionError("mtools missing (run: bash tools/setup.sh)")
    img = build(cmdline="console=ttyS0 x=$y;z")
    _, parts = read_entries(img, read_header(img, 1))
    esp = parts[2]
    with tempfile.NamedTemporaryFile(suffix=".img") as f:
        f.write(img)
        f.flush()
        env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
        loc = f"{f.name}@@{esp['first'] * SECTOR}"
        app = subprocess.run(["mtype", "-i", loc, "::/EFI/BOOT/BOOTX64.EFI"], capture_output=True,
                             env=env, timeout=60)
        cfg = subprocess.run(["mtype", "-i", loc, "::/EFI/BOOT/grub.cfg"], capture_output=True,
                             env=env, text=True, timeout=60)
    assert app.returncode == 0 and app.stdout == fake_efi(), app.stderr
    assert cfg.returncode == 0, cfg.stderr
    t = stage2_table(img)
    ks, isec = mkimage.sectors_for(t["ksize"]), t["isize"] // SECTOR
    assert f"\tmultiboot2 ($kestrel_disk,gpt2)0+{ks} 'console=ttyS0' 'x=$y;z'\n" in cfg.stdout, \
        cfg.stdout
    assert f"\tmodule2 ($kestrel_disk,gpt2){t['ilba'] - t['plba']}+{isec} initrd\n" in cfg.stdout, \
        cfg.stdout
    assert t["cmdline"] == "console=ttyS0 x=$y;z", t
    boot = img[esp["first"] * SECTOR:][:SECTOR]
    hidden, = struct.unpack_from("<I", boot, 28)
    assert boot[510:] == b"\x55\xaa" and b"FAT16" in boot[54:62] and hidden == esp["first"], \
        (boot[54:62], hidden)


def test_grub_quote_round_trip():
    for w in ["plain", "x=$y", "a;b", "{}", "it's"]:
        q = mkimage.grub_quote(w)
        # GRUB: '...' is literal; '\'' closes, adds an escaped quote, reopens.
        assert q.startswith("'") and q.endswith("'") and \
            q[1:-1].replace("'\\''", "'") == w, (w, q)


def test_cmdline_rules():
    for ok in ["", "a", "init=sh test=all", "x=$y"]:
        assert mkimage.encode_cmdline(ok) == ok.encode()
    for bad in ['a="b c"', "it's", "a\\b", "a  b", " a", "a ", "a\tb", "a\0b", "x" * 256]:
        try:
            mkimage.encode_cmdline(bad)
        except mkimage.ImageError:
            continue
        raise AssertionError(f"accepted {bad!r}")


def test_reproducible():
    assert build(cmdline="a b") == build(cmdline="a b")
    a, b = build(), build(kernel=KERNEL + b"x")
    assert read_header(a, 1)["guid"] != read_header(b, 1)["guid"], "GUIDs follow the content"


def test_bad_inputs():
    cases = [(lambda: mkimage.build(fake_stage1(), fake_stage2(), b"", b"", "", None), "empty"),
             (lambda: mkimage.build(fake_stage1(), fake_stage2(), KERNEL, b"", "", b"XX"), "PE"),
             (lambda: mkimage.build(fake_stage1()[:-1], fake_stage2(), KERNEL, b"", "", None),
              "55 AA")]
    for fn, word in cases:
        try:
            fn()
        except mkimage.ImageError as e:
            assert word in str(e), e
            continue
        raise AssertionError(f"no ImageError ({word})")


TESTS = [v for k, v in list(globals().items()) if k.startswith("test_")]


def main():
    print("KTAP version 1\n# suite: mkimage\n1.." + str(len(TESTS)))
    failed = 0
    for i, t in enumerate(TESTS, 1):
        try:
            t()
            print(f"ok {i} {t.__name__}")
        except Exception:
            failed += 1
            for line in traceback.format_exc().splitlines():
                print(f"# {line}")
            print(f"not ok {i} {t.__name__}")
    print(f"# mkimage: {len(TESTS) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
