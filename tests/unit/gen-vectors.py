#!/usr/bin/env python3
# gen-vectors.py - write docs/test-vectors.json, the published known answers
# for signing reply addresses (SPEC section 2) and the unique Message-ID form
# (SPEC section 3 item 9).
#
# The answers are computed here with Python's own hmac module, independently
# of replygate's C code; tests/unit/signers.sh checks `replygate address`,
# `message-id` and `verify` and every signer of docs/signers/ against them.
# The output is deterministic: run it again and nothing changes.
#
# Run: python3 tests/unit/gen-vectors.py   (from the source root)
import hashlib
import hmac
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "docs", "test-vectors.json")
DOMAIN = "reply.example.com"
MAX = 2**64 - 1


def secrets_of(content):
    """The secrets file rules: lines split at LF, one trailing CR dropped,
    empty lines and lines starting with '#' skipped, the rest are keys."""
    keys = []
    for line in content.encode().split(b"\n"):
        if line.endswith(b"\r"):
            line = line[:-1]
        if line and not line.startswith(b"#"):
            keys.append(line)
    return keys


def mac(key, kind, target, user):
    return hmac.new(key, f"{kind}-{target}-{user}".encode(), hashlib.sha256).hexdigest()[:40]


def address(key, kind, target, user, suffix=None):
    local = f"reply+{kind}-{target}-{mac(key, kind, target, user)}-{user}"
    if suffix is not None:
        local += "." + suffix
    return f"{local}@{DOMAIN}"


def sign_vectors(key, rows):
    out = []
    for kind, target, user in rows:
        out.append({"kind": kind, "target": str(target), "user": str(user),
                    "hmac_input": f"{kind}-{target}-{user}",
                    "mac": mac(key, kind, target, user),
                    "address": address(key, kind, target, user)})
    return out


ONE = "replygate-test-vector-secret-one-0123456789abcdef"
NEW = "replygate-test-vector-secret-new-2026-11-22-fedcba98"
OLD = "replygate-test-vector-secret-old-2025-01-01-76543210"
ROWS = [
    ("i", 1, 5),
    ("i", 1, 0),
    ("p", 42, 7),
    ("c", 1733450000, 123456789),
    ("i", 2**53 + 1, 5),          # JavaScript's Number rounds this to 2^53
    ("i", MAX, MAX),              # 2^64-1, twenty digits
    ("abcdefghijklmnop", MAX - 1, 1),  # a kind of 16 letters
]


def file_group(label, content, note):
    keys = secrets_of(content)
    group = {"label": label, "note": note, "content": content,
             "secrets_hex": [k.hex() for k in keys],
             "signing_secret_hex": keys[0].hex(),
             "sign": sign_vectors(keys[0], ROWS)}
    verify = []
    for i, k in enumerate(keys):
        for kind, target, user in [("i", 1, 5), ("p", MAX, 0)]:
            verify.append({"address": address(k, kind, target, user), "valid": True,
                           "kind": kind, "target": str(target), "user": str(user),
                           "signed_with": f"secret {i + 1}"})
    # Signed with a secret that is not in the file, and a changed mac.
    stranger = b"replygate-test-vector-secret-not-in-the-file-000000"
    verify.append({"address": address(stranger, "i", 1, 5), "valid": False,
                   "why": "signed with a secret that is not in the file"})
    good = address(keys[0], "i", 1, 5)
    at = good.index("-", good.index("-") + 1) + 1
    flipped = good[:at] + ("1" if good[at] == "0" else "0") + good[at + 1:]
    verify.append({"address": flipped, "valid": False, "why": "the mac's first digit changed"})
    verify.append({"address": good.upper(), "valid": True, "kind": "i", "target": "1",
                   "user": "5", "signed_with": "secret 1, upper-cased by a relay"})
    group["verify"] = verify
    group["message_ids"] = [
        {"kind": k, "target": str(t), "user": str(u), "suffix": s,
         "message_id": "<" + address(keys[0], k, t, u, s) + ">"}
        for k, t, u, s in [("i", 1, 5, "20261206T120000Z.8f3a"),
                           ("p", MAX, 0, "x"),
                           ("i", 1, 5, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab_-.z")]]
    return group


def main():
    groups = [
        file_group("one secret", ONE + "\n",
                   "The simplest file: one line, its bytes without the newline are the key."),
        file_group("rotation, comments, blank lines, CRLF",
                   "# replygate secrets, rotated 2026-11-22 (edited on Windows: CRLF)\r\n\r\n"
                   + NEW + "\r\n"
                   "# the old secret, kept until its addresses have expired\r\n"
                   + OLD + "\r\n\r\n",
                   "The first secret signs, every secret verifies. A comment starts with '#' "
                   "in the first column; blank lines are skipped; the CR of a CRLF line end is "
                   "not part of the key (the file may have been edited on Windows)."),
        file_group("no newline at the end", "# one secret\n" + ONE,
                   "The last line needs no newline; this file signs like the first one."),
    ]
    refused = [
        {"kind": "i", "target": "0", "user": "5", "why": "target 0"},
        {"kind": "i", "target": "18446744073709551616", "user": "5", "why": "target 2^64"},
        {"kind": "i", "target": "99999999999999999999", "user": "5",
         "why": "twenty digits, above 2^64-1"},
        {"kind": "i", "target": "100000000000000000000", "user": "5", "why": "twenty-one digits"},
        {"kind": "i", "target": "1", "user": "18446744073709551616", "why": "user 2^64"},
        {"kind": "i", "target": "01", "user": "5", "why": "a leading zero"},
        {"kind": "i", "target": "1", "user": "05", "why": "a leading zero"},
        {"kind": "i", "target": "-1", "user": "5", "why": "a sign"},
        {"kind": "i", "target": "1e3", "user": "5", "why": "not decimal digits"},
        {"kind": "i", "target": "", "user": "5", "why": "empty"},
        {"kind": "I", "target": "1", "user": "5", "why": "an upper-case kind"},
        {"kind": "abcdefghijklmnopq", "target": "1", "user": "5", "why": "a kind of 17 letters"},
        {"kind": "i2", "target": "1", "user": "5", "why": "a digit in the kind"},
        {"kind": "", "target": "1", "user": "5", "why": "an empty kind"},
    ]
    refused_suffixes = [
        {"suffix": "", "why": "empty"},
        {"suffix": "a+b", "why": "'+' is not in [A-Za-z0-9._-]"},
        {"suffix": "a b", "why": "a space"},
        {"suffix": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab_-.zz",
         "why": "65 characters"},
    ]
    refused_files = [
        {"content": "# only a comment\n\n", "why": "no secret"},
        {"content": "short-secret\n", "why": "a secret under 32 bytes"},
        {"content": " " * 31 + "\n", "why": "white space is part of the key; 31 bytes are too few"},
    ]
    doc = {
        "about": "Known answers for replygate reply addresses (SPEC section 2) and unique "
                 "notification Message-IDs (SPEC section 3 item 9). Every signer must give "
                 "exactly these addresses; replygate's own tests check its C code and the "
                 "reference signers in docs/signers/ against this file.",
        "rules": [
            "address = prefix + separator + kind '-' target '-' mac '-' user '@' domain; "
            "here prefix 'reply', separator '+', domain '" + DOMAIN + "'.",
            "mac = the first 40 lower-case hex digits of HMAC-SHA256(key, kind '-' target '-' user).",
            "kind: 1 to 16 of a-z. target: 1 to 2^64-1, user: 0 to 2^64-1, in decimal without "
            "leading zeros (at most 20 digits, and 99999999999999999999 is above 2^64-1). "
            "Keep them as strings or 64-bit unsigned integers: a JavaScript Number or a "
            "double rounds above 2^53.",
            "secrets file: lines split at LF; one CR before the LF is dropped; empty lines and "
            "lines whose first byte is '#' are skipped; every other line, all its bytes "
            "(spaces included), is a key of at least 32 bytes; the first key signs, every "
            "key verifies.",
            "Message-ID: '<' + the address's local part + '.' + suffix + '@' + domain + '>', "
            "suffix 1 to 64 of A-Z a-z 0-9 . _ -; it names the same key.",
            "Addresses are matched in any case: relays may fold a local part.",
        ],
        "domain": DOMAIN,
        "prefix": "reply",
        "separator": "+",
        "secrets_files": groups,
        "refused": refused,
        "refused_suffixes": refused_suffixes,
        "refused_files": refused_files,
    }
    with open(OUT, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2, ensure_ascii=False)
        fh.write("\n")


if __name__ == "__main__":
    main()
