"""lmtpclient.py - a small LMTP client for the tests (RFC 2033), no Postfix.

It speaks raw bytes on purpose, so a test can pipeline, send bare LF,
garbage or half a message, and read every reply as it comes.
"""
import socket
import time


class LmtpError(Exception):
    pass


class Lmtp:
    """One connection to the service, at a unix path or ("host", port)."""

    def __init__(self, where, timeout=60):
        if isinstance(where, str):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(where)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise LmtpError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("ascii", "replace")

    def reply(self):
        """One whole reply, multi-line or not: (code, [lines])."""
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), lines

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.reply()

    def closed(self, wait=5):
        """Has the server closed the connection (reads EOF within wait s)?"""
        self.sock.settimeout(wait)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (socket.timeout, ConnectionResetError):
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def stuff(message):
    """A message as DATA sends it: CRLF lines, leading dots doubled, end mark."""
    if isinstance(message, str):
        message = message.encode()
    lines = message.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines)
    return out + b".\r\n"


def begin(where, sender, recipients, xforward=None, lhlo="test.example"):
    """The greeting and LHLO, then XFORWARD, MAIL, RCPTs and DATA pipelined as
    Postfix's lmtp(8) does; returns (the open session, rcpt replies, DATA's
    reply: 354 when the message may follow)."""
    c = Lmtp(where)
    try:
        c.reply()
        c.cmd("LHLO " + lhlo)
        out = ""
        if xforward:
            out += "XFORWARD " + xforward + "\r\n"
        out += "MAIL FROM:<%s>\r\n" % sender
        for r in recipients:
            out += "RCPT TO:<%s>\r\n" % r
        out += "DATA\r\n"
        c.send(out)
        if xforward:
            c.reply()
        mail = c.reply()
        if mail[0] != 250:
            raise LmtpError("MAIL: %r" % (mail,))
        rcpts = [c.reply() for _ in recipients]
        return c, rcpts, c.reply()
    except BaseException:
        c.close()
        raise


def transaction(where, sender, recipients, message, xforward=None, lhlo="test.example"):
    """begin(), then the message; returns (rcpt replies, data replies: one per
    accepted recipient)."""
    c, rcpts, data = begin(where, sender, recipients, xforward, lhlo)
    try:
        accepted = sum(1 for r in rcpts if r[0] == 250)
        if data[0] != 354:
            return rcpts, [data]
        c.send(stuff(message))
        replies = [c.reply() for _ in range(accepted)]
        c.cmd("QUIT")
        return rcpts, replies
    finally:
        c.close()


def wait_for(predicate, timeout=30, step=0.1):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
