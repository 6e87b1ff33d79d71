#!/usr/bin/env python3
"""A small QMP client (QEMU Machine Protocol, docs/interop/qmp-spec in
QEMU) for boot tests that drive the machine: press keys on its keyboard
(send-key), and whatever else a test asks with execute().

    path = workdir / "qmp.sock"
    argv = qemu.build_argv(..., extra=qmp.qmp_args(path))
    with qmp.connect(path, timeout) as q:
        q.type_text("help\\n")

QEMU listens on a Unix socket (server=on,wait=off: it does not wait for
us), so connect() retries until the socket answers or the time is up.
Nothing here changes what tools/qemu.py builds for boots without QMP."""

import json
import socket
import time

CONNECT_POLL_S = 0.05
# How long each send-key holds its keys (QEMU's default is 100 ms). QEMU
# queues the events with these delays, so keys arrive in order and at a
# pace the guest's 16-byte PS/2 queue can take.
DEFAULT_HOLD_MS = 30

# US layout: characters typed with one key, and those that need Shift (qcodes of QAPI QKeyCode).
PLAIN_KEYS = {
    " ": "spc", "\n": "ret", "\t": "tab", "-": "minus", "=": "equal",
    "[": "bracket_left", "]": "bracket_right", "\\": "backslash", ";": "semicolon",
    "'": "apostrophe", "`": "grave_accent", ",": "comma", ".": "dot", "/": "slash",
}
SHIFT_KEYS = {
    "!": "1", "@": "2", "#": "3", "$": "4", "%": "5", "^": "6", "&": "7", "*": "8",
    "(": "9", ")": "0", "_": "minus", "+": "equal", "{": "bracket_left",
    "}": "bracket_right", "|": "backslash", ":": "semicolon", '"': "apostrophe",
    "~": "grave_accent", "<": "comma", ">": "dot", "?": "slash",
}


class QMPError(Exception):
    """QEMU answered an error, closed the socket, or did not answer in time."""


def qmp_args(path):
    """QEMU arguments for a QMP server on the Unix socket path."""
    return ["-qmp", f"unix:{path},server=on,wait=off"]


def keys_for(ch):
    """The qcodes pressed together to type ch on a US keyboard."""
    if ch.isascii() and (ch.islower() or ch.isdigit()):
        return [ch]
    if ch.isascii() and ch.isupper():
        return ["shift", ch.lower()]
    if ch in PLAIN_KEYS:
        return [PLAIN_KEYS[ch]]
    if ch in SHIFT_KEYS:
        return ["shift", SHIFT_KEYS[ch]]
    raise ValueError(f"no US key types {ch!r}")


class QMP:
    def __init__(self, sock, timeout):
        self.sock = sock
        self.timeout = timeout
        self.buf = b""
        self.events = []

    def _line(self, deadline):
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise QMPError("no answer from QEMU's QMP socket in time")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError as e:
                raise QMPError(f"QMP socket: {e}") from None
            if not chunk:
                raise QMPError("QEMU closed the QMP socket")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, command, **arguments):
        """Run one command; its "return" value, or QMPError with QEMU's error."""
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        try:
            self.sock.sendall(json.dumps(msg).encode() + b"\n")
        except OSError as e:
            raise QMPError(f"QMP socket: {e}") from None
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._line(deadline)
            if "event" in reply:
                self.events.append(reply)
                continue
            if "error" in reply:
                err = reply["error"]
                raise QMPError(f"{command}: {err.get('class')}: {err.get('desc')}")
            if "return" in reply:
                return reply["return"]

    def send_key(self, qcodes, hold_ms=DEFAULT_HOLD_MS):
        """Press qcodes together (in order), release them after hold_ms."""
        self.execute("send-key", keys=[{"type": "qcode", "data": k} for k in qcodes],
                     **{"hold-time": hold_ms})

    def type_text(self, text, hold_ms=DEFAULT_HOLD_MS):
        """Type text on the machine's keyboard, one send-key per character."""
        for ch in text:
            self.send_key(keys_for(ch), hold_ms)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def connect(path, timeout):
    """Connect to QEMU's QMP socket at path and leave capability negotiation."""
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(str(path))
            break
        except OSError as e:
            s.close()
            if time.monotonic() >= deadline:
                raise QMPError(f"cannot connect to QMP socket {path}: {e}") from None
            time.sleep(CONNECT_POLL_S)
    q = QMP(s, timeout)
    try:
        greeting = q._line(deadline)
        if "QMP" not in greeting:
            raise QMPError(f"not a QMP greeting: {greeting}")
        q.execute("qmp_capabilities")
    except BaseException:
        q.close()
        raise
    return q
