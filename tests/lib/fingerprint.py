#!/usr/bin/python3
"""fingerprint.py - SPEC section 8's fingerprint, written from SPEC's text
alone so the tests can check the C code against a second reading.

  fingerprint.py < message       prints the lower-case hex SHA-256 of
  From NUL Date NUL Subject NUL Message-ID NUL body, where each value is the
  first header of that name (any case), unfolded, white space runs made one
  space, trimmed, empty when absent; and the body is every byte after the
  first empty line, with CRLF made LF.
"""
import hashlib
import re
import sys


def fingerprint(raw: bytes) -> str:
    pos, fields, cur = 0, [], None
    body_at = len(raw)
    while pos < len(raw):
        nl = raw.find(b"\n", pos)
        end = len(raw) if nl < 0 else nl
        line, nxt = raw[pos:end], (len(raw) if nl < 0 else nl + 1)
        if line in (b"", b"\r"):
            body_at = nxt
            break
        if line[:1] in (b" ", b"\t"):
            if cur is not None:
                cur[1] += b"\n" + line
        else:
            colon = line.find(b":")
            cur = [line[:colon].rstrip(b" \t"), line[colon + 1:]] if colon >= 0 else [None, b""]
            fields.append(cur)
        pos = nxt

    def value(name):
        for n, v in fields:
            if n is not None and n.lower() == name.lower():
                return re.sub(rb"[ \t\r\n]+", b" ", v).strip(b" ")
        return b""

    body = raw[body_at:].replace(b"\r\n", b"\n")
    parts = [value(b"From"), value(b"Date"), value(b"Subject"), value(b"Message-ID"), body]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


if __name__ == "__main__":
    print(fingerprint(sys.stdin.buffer.read()))
