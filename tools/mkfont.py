#!/usr/bin/env python3
"""The framebuffer console's 8x16 font, generated at build time from a
packaged PC console font (docs/console.md).

Reads a PSF (version 1 or 2, gzipped or not; the Linux console font format,
kbd's psfxtable(1) documents it) with a Unicode table, and writes C source
with one glyph per byte value 0..255, the byte read as Latin-1 (ASCII is its
lower half). A code point the font has no glyph for gets the glyph of '?'.
Default font: Debian's console-setup-linux Lat15-Terminus16 (Terminus Font,
Copyright (c) 2010 Dimitar Toshkov Zhekov, SIL Open Font License 1.1).

tests/boot/test_screen.py imports this module to draw the expected text
with exactly the glyphs the kernel draws.

Usage: mkfont.py FONT.psf[.gz] -o OUT.c
"""

import argparse
import gzip
import struct
import sys
from pathlib import Path

DEFAULT_FONT = "/usr/share/consolefonts/Lat15-Terminus16.psf.gz"
FONT_NAME = "Lat15-Terminus16 (Terminus Font)"
FONT_LICENSE = ("Terminus Font, Copyright (c) 2010 Dimitar Toshkov Zhekov, "
                "SIL Open Font License 1.1 (Debian package console-setup-linux, "
                "/usr/share/doc/console-setup-linux/copyright.fonts.gz)")
WIDTH, HEIGHT = 8, 16           # what drivers/fbcon.c draws
GLYPHS = 256                    # one per byte value

PSF1_MAGIC = b"\x36\x04"
PSF1_MODE512 = 0x01
PSF1_MODEHASTAB = 0x02
PSF1_SEPARATOR, PSF1_TERMINATOR = 0xFFFE, 0xFFFF
PSF2_MAGIC = b"\x72\xb5\x4a\x86"
PSF2_HAS_UNICODE_TABLE = 0x01
PSF2_SEPARATOR, PSF2_TERMINATOR = 0xFE, 0xFF
PSF2_HEADER = struct.Struct("<4sIIIIIII")


class FontError(Exception):
    pass


def _read(path):
    data = Path(path).read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data


def _psf1(data):
    mode, charsize = data[2], data[3]
    count = 512 if mode & PSF1_MODE512 else 256
    if charsize != HEIGHT:
        raise FontError(f"glyphs are 8x{charsize}, need 8x{HEIGHT}")
    end = 4 + count * charsize
    if len(data) < end:
        raise FontError("truncated glyph data")
    glyphs = [data[4 + i * charsize:4 + (i + 1) * charsize] for i in range(count)]
    table = {}
    if mode & PSF1_MODEHASTAB:
        pos, glyph = end, 0
        while glyph < count and pos + 2 <= len(data):
            (u,) = struct.unpack_from("<H", data, pos)
            pos += 2
            if u == PSF1_TERMINATOR:
                glyph += 1
            elif u == PSF1_SEPARATOR:
                # Combining sequences follow up to the terminator: skip them.
                while pos + 2 <= len(data) and struct.unpack_from("<H", data, pos)[0] != PSF1_TERMINATOR:
                    pos += 2
            else:
                table.setdefault(u, glyph)
    return glyphs, table


def _utf8_decode_one(buf, pos):
    """One UTF-8 code point from buf at pos: (code point, next pos)."""
    b = buf[pos]
    n = 1 if b < 0x80 else 2 if b >> 5 == 6 else 3 if b >> 4 == 14 else 4
    return ord(bytes(buf[pos:pos + n]).decode("utf-8")), pos + n


def _psf2(data):
    magic, _ver, hdrsize, flags, count, charsize, height, width = PSF2_HEADER.unpack_from(data)
    if (width, height) != (WIDTH, HEIGHT) or charsize != HEIGHT:
        raise FontError(f"glyphs are {width}x{height}, need {WIDTH}x{HEIGHT}")
    end = hdrsize + count * charsize
    if len(data) < end:
        raise FontError("truncated glyph data")
    glyphs = [data[hdrsize + i * charsize:hdrsize + (i + 1) * charsize] for i in range(count)]
    table = {}
    if flags & PSF2_HAS_UNICODE_TABLE:
        pos, glyph = end, 0
        while glyph < count and pos < len(data):
            b = data[pos]
            if b == PSF2_TERMINATOR:
                glyph, pos = glyph + 1, pos + 1
            elif b == PSF2_SEPARATOR:
                while pos < len(data) and data[pos] != PSF2_TERMINATOR:
                    pos += 1
            else:
                u, pos = _utf8_decode_one(data, pos)
                table.setdefault(u, glyph)
    return glyphs, table


def load(path=DEFAULT_FONT):
    """The console's 256 glyphs: a list of 16-byte bitmaps (bit 7 = leftmost
    pixel), index = byte value read as Latin-1."""
    data = _read(path)
    if data[:2] == PSF1_MAGIC:
        glyphs, table = _psf1(data)
    elif data[:4] == PSF2_MAGIC:
        glyphs, table = _psf2(data)
    else:
        raise FontError("not a PSF font")
    if not table:
        # No Unicode table: the font is in code-page order; take it as is.
        table = {i: i for i in range(min(GLYPHS, len(glyphs)))}
    if ord("?") not in table:
        raise FontError("font has no '?' for missing characters")
    fallback = glyphs[table[ord("?")]]
    blank = bytes(HEIGHT)
    out = []
    for cp in range(GLYPHS):
        if cp < 0x20 or 0x7F <= cp < 0xA0:
            out.append(blank)           # control characters are never drawn
        elif cp in table:
            out.append(bytes(glyphs[table[cp]]))
        else:
            out.append(bytes(fallback))
    return out


def c_source(glyphs, font_path):
    lines = [
        "/*",
        f" * Generated by tools/mkfont.py from {Path(font_path).name}: do not edit.",
        f" * Font: {FONT_NAME}.",
        f" * Licence: {FONT_LICENSE}.",
        " * 256 glyphs of 8x16 pixels, one per byte value read as Latin-1;",
        " * one byte per row, bit 7 is the leftmost pixel.",
        " */",
        "#include <stdint.h>",
        "#include <kernel/fbcon.h>",
        "",
        "const uint8_t fbcon_font[FBCON_FONT_GLYPHS][FBCON_FONT_H] = {",
    ]
    for i, g in enumerate(glyphs):
        ch = chr(i) if 0x20 < i < 0x7F and chr(i) not in "\\*/" else ""
        lines.append(f"\t[0x{i:02x}] = {{ " + ", ".join(f"0x{b:02x}" for b in g) + " },"
                     + (f"\t/* {ch} */" if ch else ""))
    lines.append("};")
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("font", nargs="?", default=DEFAULT_FONT)
    p.add_argument("-o", "--output", required=True)
    args = p.parse_args(argv)
    try:
        glyphs = load(args.font)
    except (OSError, FontError, ValueError) as e:
        print(f"mkfont.py: {args.font}: {e}", file=sys.stderr)
        return 1
    Path(args.output).write_text(c_source(glyphs, args.font))
    return 0


if __name__ == "__main__":
    sys.exit(main())
