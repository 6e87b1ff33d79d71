"""Reading the guest's screen for tests/boot/test_screen.py: QEMU's QMP
`screendump` (a binary PPM, through tests/boot/qmp.py), the PPM parser, a PNG writer (zlib only), and
the framebuffer console's own rendering of text (tools/mkfont.py's glyphs,
drivers/fbcon_draw.c's cell layout and colours) to compare pixel for pixel."""

import os
import struct
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import mkfont  # noqa: E402

FONT_W, FONT_H = mkfont.WIDTH, mkfont.HEIGHT
TAB_WIDTH = 8                   # FBCON_TAB_WIDTH
JUMP_DIVISOR = 4                # FBCON_JUMP_DIVISOR: fbcon scrolls rows // 4 at once
CURSOR_ROWS = 2                 # FBCON_CURSOR_ROWS
ATTR_NORMAL = 0x07              # FBCON_ATTR_NORMAL
ATTR_PANIC = 0x4F               # FBCON_ATTR_PANIC
# fbcon_cga_rgb[] (drivers/fbcon_draw.c)
CGA_RGB = (0x000000, 0x0000AA, 0x00AA00, 0x00AAAA, 0xAA0000, 0xAA00AA, 0xAA5500, 0xAAAAAA,
           0x555555, 0x5555FF, 0x55FF55, 0x55FFFF, 0xFF5555, 0xFF55FF, 0xFFFF55, 0xFFFFFF)


def screendump(qmp, path):
    """The guest's screen as (width, height, RGB bytes), through a PPM file;
    qmp is a tests/boot/qmp.py connection."""
    if os.path.exists(path):
        os.unlink(path)
    qmp.execute("screendump", filename=str(path))
    return read_ppm(Path(path).read_bytes())


def read_ppm(data):
    """Binary PPM (P6, maxval 255) to (width, height, rgb bytes)."""
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    magic, width, height, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    if magic != b"P6" or maxval != 255:
        raise ValueError(f"not a P6 PPM with maxval 255: {magic!r} {maxval}")
    pos += 1                                    # the one whitespace after maxval
    rgb = data[pos:pos + width * height * 3]
    if len(rgb) != width * height * 3:
        raise ValueError("truncated PPM")
    return width, height, rgb


def write_png(path, width, height, rgb):
    """An 8-bit RGB PNG (ISO/IEC 15948), filter 0 on every line."""
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body +
                struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    stride = width * 3
    raw = b"".join(b"\x00" + rgb[y * stride:(y + 1) * stride] for y in range(height))
    png = (b"\x89PNG\r\n\x1a\n" +
           chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
           chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    Path(path).write_bytes(png)


class Terminal:
    """drivers/fbcon_draw.c's grid_putc(), in Python: what a stream of
    console output leaves on a cols x rows screen (the cells and the cursor)."""

    def __init__(self, cols, rows, attr=ATTR_NORMAL, jump=None):
        self.cols, self.rows, self.attr = cols, rows, attr
        self.jump = jump if jump is not None else max(1, rows // JUMP_DIVISOR)
        self.lines = [[(" ", attr)] * cols for _ in range(rows)]
        self.row = self.col = 0

    def _newline(self):
        self.col = 0
        if self.row + 1 < self.rows:
            self.row += 1
        else:
            del self.lines[:self.jump]
            self.lines += [[(" ", self.attr)] * self.cols for _ in range(self.jump)]
            self.row = self.rows - self.jump

    def putc(self, ch):
        if ch == "\n":
            self._newline()
        elif ch == "\r":
            self.col = 0
        elif ch == "\t":
            if self.col >= self.cols:
                self._newline()
            self.col = min((self.col + TAB_WIDTH) & ~(TAB_WIDTH - 1), self.cols)
        elif ch == "\b":
            self.col = self.cols - 1 if self.col >= self.cols else max(self.col - 1, 0)
        else:
            if self.col >= self.cols:
                self._newline()
            self.lines[self.row][self.col] = (ch, self.attr)
            self.col += 1

    def write(self, text):
        for ch in text:
            self.putc(ch)

    def cursor(self):
        return self.row, min(self.col, self.cols - 1)

    def text_lines(self):
        return ["".join(ch for ch, _ in line).rstrip() for line in self.lines]


class Renderer:
    """Cells to pixels exactly as screen_update_row() draws them, as RGB bytes."""

    def __init__(self, font_path=mkfont.DEFAULT_FONT):
        self.glyphs = mkfont.load(font_path)
        self.cache = {}

    def _glyph_rows(self, ch, attr, cursor):
        key = (ch, attr, cursor)
        rows = self.cache.get(key)
        if rows is None:
            code = ord(ch) if ord(ch) < 256 else ord("?")
            fg = CGA_RGB[attr & 0xF].to_bytes(3, "big")
            bg = CGA_RGB[attr >> 4].to_bytes(3, "big")
            glyph = self.glyphs[code]
            rows = []
            for y in range(FONT_H):
                bits = 0xFF if cursor and y >= FONT_H - CURSOR_ROWS else glyph[y]
                rows.append(b"".join(fg if bits & (0x80 >> x) else bg for x in range(FONT_W)))
            self.cache[key] = rows
        return rows

    def text_row(self, cells, cursor_col=None):
        """The 16 pixel lines of one row of cells [(ch, attr), ...]."""
        glyphs = [self._glyph_rows(ch, attr, c == cursor_col) for c, (ch, attr) in enumerate(cells)]
        return [b"".join(g[y] for g in glyphs) for y in range(FONT_H)]


def screen_rows(width, rgb, cols, rows):
    """The dump cut into text rows: for each, its 16 pixel lines over cols cells."""
    stride, used = width * 3, cols * FONT_W * 3
    return [[rgb[(r * FONT_H + y) * stride:(r * FONT_H + y) * stride + used]
             for y in range(FONT_H)] for r in range(rows)]


def decode(width, height, rgb, font_path=mkfont.DEFAULT_FONT):
    """OCR by the font itself: each 8x16 cell of the dump read back as the
    character whose glyph it shows in two colours ('\\0' when none does).
    Returns a list of text lines, right-stripped."""
    glyphs = mkfont.load(font_path)
    table = {}
    for code in range(255, 31, -1):             # lowest code wins a shared glyph
        table[bytes(glyphs[code])] = chr(code)
    cols, rows, stride = width // FONT_W, height // FONT_H, width * 3
    lines = []
    for r in range(rows):
        line = []
        for c in range(cols):
            px = [rgb[(r * FONT_H + y) * stride + (c * FONT_W + x) * 3:
                      (r * FONT_H + y) * stride + (c * FONT_W + x) * 3 + 3]
                  for y in range(FONT_H) for x in range(FONT_W)]
            colours = set(px)
            if len(colours) == 1:
                line.append(" ")
                continue
            if len(colours) != 2:
                line.append("\0")
                continue
            found = "\0"
            for fg in colours:
                bits = bytes(sum(0x80 >> x for x in range(FONT_W) if px[y * FONT_W + x] == fg)
                             for y in range(FONT_H))
                if bits in table:
                    found = table[bits]
                    break
            line.append(found)
        lines.append("".join(line).rstrip())
    return lines
