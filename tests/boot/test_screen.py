#!/usr/bin/env python3
"""The framebuffer console as a person sees it (docs/console.md): boot our
loader on BIOS, GRUB on BIOS and GRUB on UEFI with QEMU's std VGA, wait
for the shell prompt on COM1, take QEMU's screendump over QMP and compare
it pixel for pixel with the console's own rendering (tools/mkfont.py's
glyphs, drivers/fbcon_draw.c's layout and colours) of everything the kernel
wrote to COM1 from its first fbcon line on: the boot log and the prompt,
the cursor after it. A panic (test=panic_smp on 2 CPUs, without
isa-debug-exit so that the kernel halts instead of exiting) must show the
report of both CPUs, white on red from its first line on. One more boot
with console=serial must leave the screen untouched (one colour), and one
without any display device (-vga none) must boot to the prompt as before,
the loader saying it found no VBE. Boots run in parallel; prints KTAP.

--update-screenshot also writes the UEFI screen to docs/screenshot-uefi.png
(README.md shows it); every run writes it to build/screen-uefi.png."""

import argparse
import concurrent.futures
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from harness import qemu  # noqa: E402
import qmp as qmp_client  # noqa: E402
import screen  # noqa: E402

PROMPT = b"kestrel> "
PANIC_START = "\npanic: "             # panic_report()'s first output, after fbcon_panic()
# The other CPU's report has begun; the dumps are retried until the screen
# equals the whole log, which stops growing once that CPU halts.
PANIC_DONE = re.compile(rb"stopped by the panic on CPU \d+")
BOOT_TIMEOUT = 90.0 * harness.TIMEOUT_SCALE
# After the prompt, the fbcon thread draws within FBCON_FLUSH_MS (20 ms) of
# guest time; a loaded host may take longer, so dumps are retried until then.
SETTLE_TIMEOUT = 15.0 * harness.TIMEOUT_SCALE
SETTLE_POLL = 0.3
MAX_COLS, MAX_ROWS = 320, 100           # FBCON_MAX_COLS, FBCON_MAX_ROWS
FBCON_LINE = re.compile(r"^fbcon: (\d+)x(\d+), (\d+) bpp", re.M)
JOBS = int(os.environ.get("KESTREL_JOBS", "4"))
SCREENSHOT = harness.ROOT / "docs" / "screenshot-uefi.png"


@dataclass
class Case:
    name: str
    boot: str
    cmdline: str = ""
    drawn: bool = True                  # False: nothing may be drawn
    png: str = None                     # write the screen here (build/...)
    panic: bool = False                 # wait for a panic report, not the prompt
    smp: int = 1
    vga: bool = True                    # False: -vga none, no screen to read


CASES = [
    Case("screen-kestrel-bios", "img"),
    Case("screen-grub-bios", "iso"),
    Case("screen-grub-uefi", "uefi", png="screen-uefi.png"),
    Case("screen-console-serial", "img", cmdline="console=serial", drawn=False),
    Case("screen-no-display", "img", vga=False),
    # The path of a framebuffer above 4 GiB: nothing drawn before the VMM
    # maps it write-combining, then everything at once.
    Case("screen-late-map", "iso", cmdline="fbcon_late_map"),
    Case("screen-panic", "iso", cmdline="test=panic_smp", panic=True, smp=2,
         png="screen-panic.png"),
]


def kernel_stream(log):
    """What the kernel wrote to its consoles from fbcon's first line on, as
    the console received it (the serial driver's CR before LF taken out)."""
    m = FBCON_LINE.search(log)
    return (log[m.start():] if m else None), m


def check_drawn(width, height, rgb, log, renderer, panic=False):
    """Problems (empty: the screen is exactly what the console should show)."""
    stream, m = kernel_stream(log)
    if stream is None:
        return ["no 'fbcon: WxH, N bpp' line on serial: the console did not start"]
    if (int(m.group(1)), int(m.group(2))) != (width, height):
        return [f"fbcon says {m.group(1)}x{m.group(2)}, the screen is {width}x{height}"]
    cols, rows = min(width // screen.FONT_W, MAX_COLS), min(height // screen.FONT_H, MAX_ROWS)
    term = screen.Terminal(cols, rows)
    problems = []
    if panic:
        cut = stream.find(PANIC_START)
        if cut < 0:
            return ["no 'panic: ' line on serial"]
        term.write(stream[:cut])
        term.attr = screen.ATTR_PANIC
        term.write(stream[cut:])
        text = term.text_lines()
        if not any(line.startswith("panic: ktest: deliberate panic") and
                   term.lines[i][0][1] == screen.ATTR_PANIC for i, line in enumerate(text)):
            problems.append("the expected screen holds no white-on-red 'panic: ' line (test bug?)")
    else:
        term.write(stream)
        text = term.text_lines()
        if not any(line.startswith("kestrel: boot complete") for line in text):
            problems.append("the expected screen holds no 'kestrel: boot complete' (test bug?)")
    cur_row, cur_col = term.cursor()
    if not panic and text[cur_row] != PROMPT.decode().rstrip():
        problems.append(f"the cursor row would be {text[cur_row]!r}, not the prompt")
    got = screen.screen_rows(width, rgb, cols, rows)
    bad = []
    for r in range(rows):
        want = renderer.text_row(term.lines[r], cur_col if r == cur_row else None)
        if want != got[r]:
            bad.append(r)
    if bad:
        decoded = screen.decode(width, height, rgb)
        problems.append(f"{len(bad)} of {rows} text rows differ from the console's rendering "
                        f"(first: row {bad[0]})")
        for r in bad[:4]:
            problems.append(f"  row {r} expected {text[r]!r}")
            problems.append(f"  row {r} on screen {decoded[r] if r < len(decoded) else ''!r}")
    # Right of and below the grid: background only.
    bg = screen.CGA_RGB[screen.ATTR_NORMAL >> 4].to_bytes(3, "big")
    stride, used = width * 3, cols * screen.FONT_W * 3
    for y in range(height):
        line = rgb[y * stride:(y + 1) * stride]
        tail = line if y >= rows * screen.FONT_H else line[used:]
        if tail != bg * (len(tail) // 3):
            problems.append(f"pixels outside the text grid drawn (line {y})")
            break
    return problems


def check_blank(width, height, rgb, log):
    if "fbcon: console=serial: framebuffer not used" not in log:
        return ["no 'fbcon: console=serial: framebuffer not used' on serial"]
    if rgb != rgb[:3] * (width * height):
        return ["console=serial: the screen is not one colour: something was drawn"]
    return []


NO_VBE = "stage2: VBE: not supported by this BIOS; VGA text"


def check_no_display(log):
    """-vga none: the loader reports no VBE, the kernel draws nowhere."""
    problems = []
    if NO_VBE not in log:
        problems.append(f"no '{NO_VBE}' on serial")
    if FBCON_LINE.search(log):
        problems.append("fbcon started without a display device")
    return problems


def wait_for_prompt(proc, serial, timeout, panic=False):
    """The prompt, or (panic) the stopped CPU's report and the end of its backtrace."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = serial.read_bytes() if serial.exists() else b""
        if (PANIC_DONE.search(data) if panic else PROMPT in data):
            return None
        if proc.poll() is not None:
            return f"QEMU exited ({harness.describe_status(proc.returncode)}) before the prompt"
        time.sleep(harness.POLL_INTERVAL)
    return f"no {'panic report' if panic else 'shell prompt'} on serial within {timeout:.0f} s"


def run_case(case, renderer, update_screenshot):
    """(ok, seconds, problems, log, workdir)."""
    workdir = Path(tempfile.mkdtemp(prefix=f"kestrel-{case.name}-"))
    serial, sock = workdir / "serial.log", workdir / "qmp.sock"
    start = time.monotonic()
    problems, log = [], ""
    try:
        argv = qemu.build_argv(case.boot, case.smp, "512M", "pc", case.cmdline,
                               serial=str(serial), workdir=str(workdir),
                               image=harness.image_for(case.boot), qmp=str(sock),
                               debug_exit=not case.panic,
                               extra=() if case.vga else ("-vga", "none"))
    except qemu.LaunchError as e:
        return False, 0.0, [f"cannot launch: {e}"], "", workdir
    (workdir / "qemu.cmd").write_text(" ".join(argv) + "\n")
    with open(workdir / "qemu.stderr", "w+b") as err:
        proc = harness.start_qemu(argv, err)
        qmp = None
        try:
            qmp = qmp_client.connect(sock, BOOT_TIMEOUT)
            why = wait_for_prompt(proc, serial, BOOT_TIMEOUT, case.panic)
            if why:
                problems.append(why)
            elif not case.vga:
                problems = check_no_display(harness.clean_serial(serial.read_bytes()))
            else:
                deadline = time.monotonic() + SETTLE_TIMEOUT
                while True:
                    w, h, rgb = screen.screendump(qmp, workdir / "screen.ppm")
                    log = harness.clean_serial(serial.read_bytes())
                    problems = (check_drawn(w, h, rgb, log, renderer, case.panic) if case.drawn
                                else check_blank(w, h, rgb, log))
                    if not problems or time.monotonic() > deadline:
                        break
                    time.sleep(SETTLE_POLL)
                if case.png:
                    screen.write_png(qemu.BUILD / case.png, w, h, rgb)
                    if update_screenshot and not problems:
                        shutil.copyfile(qemu.BUILD / case.png, SCREENSHOT)
        except (qmp_client.QMPError, OSError, ValueError) as e:
            problems.append(f"QMP: {e}")
        finally:
            if qmp:
                qmp.close()
            harness.kill_qemu(proc)
    if not log and serial.exists():
        log = harness.clean_serial(serial.read_bytes())
    ok = not problems
    if ok:
        shutil.rmtree(workdir, ignore_errors=True)
    return ok, time.monotonic() - start, problems, log, workdir


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--update-screenshot", action="store_true",
                   help=f"also write the UEFI screen to {SCREENSHOT.relative_to(harness.ROOT)}")
    p.add_argument("--only", help="run the cases whose name matches this regex")
    args = p.parse_args()
    harness.install_signal_handlers()
    cases = [c for c in CASES if not args.only or re.search(args.only, c.name)]
    renderer = screen.Renderer()
    rep = harness.Reporter(len(cases), "screen")
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, JOBS)) as pool:
        futures = {pool.submit(run_case, c, renderer, args.update_screenshot): c for c in cases}
        for fut in concurrent.futures.as_completed(futures):
            case = futures[fut]
            ok, seconds, problems, log, workdir = fut.result()
            if not ok:
                harness.diag(f"FAIL {case.name} ({case.boot}{', ' + case.cmdline if case.cmdline else ''}):")
                for line in problems:
                    harness.diag(f"  - {line}")
                lines = log.splitlines()
                harness.diag(f"  serial log (last {min(60, len(lines))} lines):")
                harness.diag("\n".join(lines[-60:]) or "(empty)", prefix="#   | ")
                harness.diag(f"  files kept in {workdir} (screen.ppm, serial.log)")
            rep.result(case.name, ok, seconds)
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main())
