#!/usr/bin/env python3
"""replygate_sign.py - sign replygate reply addresses and notification
Message-IDs in Python (SPEC sections 2 and 3; known answers in
docs/test-vectors.json). Standard library only; copy it into your application.

    secrets = load_secrets("/etc/replygate/secrets")
    reply_to = sign(secrets[0], "i", 1, 5, "reply.example.com")
    message_id = message_id(secrets[0], "i", 1, 5, "reply.example.com")

Command line: replygate_sign.py SECRETS_FILE DOMAIN KIND TARGET USER [SUFFIX]
prints the address, or the Message-ID when SUFFIX is given ("-": a fresh one).
With "--batch" instead of KIND TARGET USER it reads such lines (tab-separated)
from standard input and prints one line for each: the answer or "error: why".
"""
import datetime
import hashlib
import hmac
import re
import secrets as _random
import sys

MAX_ID = 2**64 - 1


def load_secrets(path):
    """The keys of a secrets file: one a line, a CR before the LF dropped,
    blank lines and lines starting with '#' skipped, each >= 32 bytes."""
    with open(path, "rb") as fh:
        lines = fh.read().split(b"\n")
    keys = []
    for n, line in enumerate(lines, 1):
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line or line.startswith(b"#"):
            continue
        if len(line) < 32:
            raise ValueError(f"{path}:{n}: a secret needs at least 32 bytes")
        keys.append(line)
    if not keys:
        raise ValueError(f"{path} holds no secret")
    return keys


def _number(value, what, lowest):
    text = str(value)
    if not re.fullmatch(r"0|[1-9][0-9]{0,19}", text) or not lowest <= int(text) <= MAX_ID:
        raise ValueError(f"{what} must be a decimal number from {lowest} to 2^64-1: {value!r}")
    return text


def sign(key, kind, target, user, domain, prefix="reply", separator="+"):
    """The reply address for kind, target and user, signed with key (bytes)."""
    if not re.fullmatch(r"[a-z]{1,16}", kind):
        raise ValueError(f"kind must be 1 to 16 of a-z: {kind!r}")
    target = _number(target, "target", 1)
    user = _number(user, "user", 0)
    mac = hmac.new(key, f"{kind}-{target}-{user}".encode(), hashlib.sha256).hexdigest()[:40]
    return f"{prefix}{separator}{kind}-{target}-{mac}-{user}@{domain}"


def message_id(key, kind, target, user, domain, suffix=None, **kw):
    """A unique Message-ID (with its angle brackets) that names the same key."""
    if suffix is None:
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        suffix = f"{now}.{_random.token_hex(8)}"
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", suffix):
        raise ValueError(f"the suffix must be 1 to 64 of A-Z a-z 0-9 . _ -: {suffix!r}")
    local, _, domain = sign(key, kind, target, user, domain, **kw).rpartition("@")
    return f"<{local}.{suffix}@{domain}>"


def answer(key, domain, args):
    """One command line's answer: an address, or a Message-ID with a suffix."""
    if len(args) == 4:
        return message_id(key, *args[:3], domain, None if args[3] == "-" else args[3])
    if len(args) == 3:
        return sign(key, *args, domain)
    raise ValueError("want KIND TARGET USER [SUFFIX]")


def main(argv):
    if len(argv) not in (4, 6, 7) or (len(argv) == 4) != (argv[-1] == "--batch"):
        print("usage: replygate_sign.py SECRETS_FILE DOMAIN KIND TARGET USER [SUFFIX] | --batch",
              file=sys.stderr)
        return 64
    try:
        key = load_secrets(argv[1])[0]
        if len(argv) > 4:
            print(answer(key, argv[2], argv[3:]))
            return 0
    except (OSError, ValueError) as e:
        print(f"replygate_sign.py: {e}", file=sys.stderr)
        return 65
    for line in sys.stdin:
        try:
            print(answer(key, argv[2], line.rstrip("\n").split("\t")))
        except ValueError as e:
            print(f"error: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
