#!/usr/bin/env python3
"""generate.py - write the large hostile messages into a folder at test time.

    generate.py OUTDIR [--small]

They are too big to commit (up to 10 MB); each is built the same way every
time. Like the committed ones, "@REPLY@" stands for the signed address and
NAME.want says what the outcome must be (see run-hostile.sh).

The limit-* messages are the inputs of issue 13 item 2, each at the size
that was reported (full size: the plain and the sanitizer builds run them).
With --small only those are written, scaled down for valgrind: still over
every structural cap they test, but small enough for memcheck.
"""
import os
import sys

out = sys.argv[1]
SMALL = "--small" in sys.argv[2:]
os.makedirs(out, exist_ok=True)
HEAD = (b"From: Bob <bob@example.org>\r\nTo: @REPLY@\r\nSubject: large\r\n"
        b"Date: Sat, 21 Nov 2026 15:13:00 +0000\r\n")


def write(name, data, want=""):
    if SMALL and not name.startswith("limit-"):
        return
    with open(os.path.join(out, name + ".eml"), "wb") as f:
        f.write(data)
    if want:
        with open(os.path.join(out, name + ".want"), "w") as f:
            f.write(want.strip() + "\n")


def mid(n):
    return b"Message-ID: <%s@large.example.org>\r\n" % n.encode()


# 1,000 nested multiparts, the text at the bottom: parsed without exhausting
# the stack; the walk stops at its depth limit, so the reply may be empty.
depth = 1000
body = b"".join(b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1)
                for i in range(depth))
body += b"--b%d\r\nContent-Type: text/plain\r\n\r\nat the bottom\r\n" % depth
body += b"".join(b"--b%d--\r\n" % i for i in range(depth, -1, -1))
write("nesting-1000-multipart",
      HEAD + mid("deep1") + b"Content-Type: multipart/mixed; boundary=b0\r\n\r\n" + body)

# Nested message/rfc822 parts: 20 levels (60 of MIME nesting) are read;
# 1,000 are over the nesting cap (64) and refused as too complex.
def rfc822_nest(levels):
    inner = b"From: x@example.org\r\nSubject: bottom\r\n\r\nat the bottom\r\n"
    for i in range(levels):
        inner = (b"From: x@example.org\r\nSubject: level %d\r\nContent-Type: multipart/mixed; boundary=r%d\r\n\r\n"
                 b"--r%d\r\nContent-Type: message/rfc822\r\n\r\n" % (i, i, i)) + inner + b"\r\n--r%d--\r\n" % i
    return (HEAD + mid("deep2-%d" % levels) + b"Content-Type: multipart/mixed; boundary=top\r\n\r\n"
            b"--top\r\nContent-Type: text/plain\r\n\r\nsee the forward\r\n--top\r\nContent-Type: message/rfc822\r\n\r\n"
            + inner + b"\r\n--top--\r\n")


write("nesting-20-rfc822", rfc822_nest(20), "exit 0\njq .reply_text | test(\"see the forward\")")
write("nesting-1000-rfc822", rfc822_nest(depth),
      "exit 65\nstatus 5.3.4 message too complex: more than 64 levels of MIME nesting")

# 1,000 nested multiparts left open (no closing boundaries at all).
write("nesting-1000-unclosed",
      HEAD + mid("deep3") + b"Content-Type: multipart/mixed; boundary=b0\r\n\r\n"
      + b"".join(b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1)
                 for i in range(depth)))

# 40,000 header fields are read; 100,000 are over the cap (50,000).
write("headers-40000",
      HEAD + mid("hdrs") + b"".join(b"X-Header-%d: value %d\r\n" % (i, i) for i in range(40000))
      + b"\r\nthe reply after many headers\r\n",
      "exit 0\njq .reply_text | test(\"after many headers\")")
write("headers-100000",
      HEAD + mid("hdrs2") + b"".join(b"X-Header-%d: value %d\r\n" % (i, i) for i in range(100000))
      + b"\r\nthe reply after many headers\r\n",
      "exit 65\nstatus 5.3.4 message too complex: more than 50000 header fields")

# 40,000 Received headers with "for" clauses that are not keys.
write("received-40000",
      b"From: Bob <bob@example.org>\r\nSubject: r\r\n" + mid("rcvd")
      + b"".join(b"Received: from h%d by mx for <reply+i-1-%040d-5@reply.example.com>; Sat, 21 Nov 2026\r\n"
                 % (i, i) for i in range(40000))
      + b"\r\nbody\r\n", "exit 67\nenvelope dedicated")

# A 10 MB body line without any newline, to the end of the message.
write("line-10mb-no-newline",
      HEAD + mid("line") + b"Content-Type: text/plain\r\n\r\n" + b"x" * (10 * 1024 * 1024),
      "exit 0\njq .reply_text | length == 10485760")

# A 10 MB header line without any newline (the message never gets a body).
write("header-10mb-no-newline", HEAD + mid("hline") + b"X-Long: " + b"y" * (10 * 1024 * 1024))

# A 1 MB Subject of encoded words.
write("subject-1mb-encoded-words",
      HEAD.replace(b"Subject: large", b"Subject:" + b" =?utf-8?B?w6k=?=" * 60000) + mid("subj")
      + b"\r\nbody\r\n", "exit 0")

# References with 20,000 message ids.
write("references-20000",
      HEAD + mid("refs") + b"References:" + b"".join(b" <r%d@example.org>\r\n" % i for i in range(20000))
      + b"\r\nbody\r\n", "exit 0\njq .references | length == 20000")

# 9,000 attachments (the cap is 10,000 MIME parts).
write("parts-9000",
      HEAD + mid("parts") + b"Content-Type: multipart/mixed; boundary=p\r\n\r\n"
      + b"--p\r\nContent-Type: text/plain\r\n\r\nmany parts\r\n"
      + b"".join(b"--p\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=f%d.bin\r\n\r\n%d\r\n" % (i, i)
                 for i in range(9000)) + b"--p--\r\n",
      "exit 0\njq .attachments | length == 9000")

# 100,000 lines of "> >" quoting below one line of reply (linear-time trimming).
write("quote-100000-lines",
      HEAD + mid("quote") + b"Content-Type: text/plain\r\n\r\nthe answer\r\n\r\nOn Sat, Bob wrote:\r\n"
      + b"> > > quoted line\r\n" * 100000, "exit 0\njq .reply_text | test(\"the answer\")")

# 100,000 lines of "bq" and "-- " alternating, with no quote header.
write("bq-100000-lines",
      HEAD + mid("bq") + b"Content-Type: text/plain\r\n\r\n" + b"bq\r\n-- \r\n>\r\n" * 33334)

# HTML: 100,000 nested <blockquote> and <div> opened and never closed.
write("html-nesting-100000",
      HEAD + mid("html") + b"Content-Type: text/html\r\n\r\n<p>top answer</p>"
      + b"<blockquote type=\"cite\"><div>" * 50000 + b"bottom", "exit 0\njq .reply_text | test(\"top answer\")")

# Over max_message_size: the runner's second configuration allows 1 MB.
write("over-max-size",
      HEAD + mid("big") + b"Content-Type: text/plain\r\n\r\n" + (b"z" * 998 + b"\r\n") * 2000,
      "exit 65\nstatus 5.3.4\nconfig small")


# --- issue 13 item 2: the agent's work is bounded -------------------------------
# n(full, small) - a count at full size, or scaled down for valgrind
def n(full, small):
    return small if SMALL else full


TOO_COMPLEX = "exit 65\nstatus 5.3.4 message too complex: "

# <div style="b" + 1 MB (here 10 MB) of spaces + "x">: Outlook's border test
# scanned the spaces from 4,097 starts, twice (9.2 s for 1 MB).
write("limit-outlook-border-spaces",
      HEAD + mid("border") + b"Content-Type: text/html\r\n\r\n<div style=\"b" + b" " * n(10 << 20, 200000)
      + b"x\">the answer</div>",
      "exit 0\njq .reply_text | test(\"the answer\")")

# 40 nested blockquotes and a <pre> of "\nx" x 5 million (10 MB): 66 bytes of
# text for each 2 bytes of HTML, 1.36 GB at the peak. The text is capped at
# twice the HTML and a megabyte.
pre = b"<p>the answer</p>" + b"<blockquote>" * 40 + b"<pre>" + b"\nx" * n(5000000, 100000)
write("limit-html-pre-blockquotes", HEAD + mid("pre") + b"Content-Type: text/html\r\n\r\n" + pre,
      "exit 0\njq .body_text | length <= %d\njq .reply_text | test(\"the answer\")"
      % (2 * len(pre) + (1 << 20)))

# 400,000 empty MIME parts in 2.8 MB: 544 MB at the peak.
write("limit-parts-400000",
      HEAD + mid("parts400k") + b"Content-Type: multipart/mixed; boundary=p\r\n\r\n"
      + b"--p\r\n\r\n" * n(400000, 12000) + b"--p--\r\n",
      TOO_COMPLEX + "more than 10000 MIME parts")

# 1.2 million header fields in 10.8 MB: 1.1 GB at the peak.
write("limit-headers-1200000",
      HEAD + mid("h1200k") + b"".join(b"X-%d: v\r\n" % (i % 1000) for i in range(n(1200000, 60000)))
      + b"\r\nbody\r\n",
      TOO_COMPLEX + "more than 50000 header fields")

# A To: of 800,000 addresses (10 MB): 390 MB, parsed twice.
write("limit-addresses-800000",
      HEAD + mid("to800k") + b"Cc: " + b"a@b.example, " * n(800000, 30000) + b"c@d.example\r\n\r\nbody\r\n",
      TOO_COMPLEX + "more than 50000 addresses, parameters and message ids in the headers")

# A To: of groups inside groups: GMime's address parser recursed until the
# stack ran out (SIGSEGV: pipe(8) would retry for five days).
write("limit-address-groups-nested",
      HEAD + mid("groups") + b"Cc: " + b"g:" * n(100000, 200) + b";" * n(100000, 200) + b"\r\n\r\nbody\r\n",
      TOO_COMPLEX + "more than 100 address groups in one header field")

# A Content-Type with 2.5 million parameters (10 MB): 758 MB.
write("limit-parameters-2500000",
      HEAD + mid("params") + b"Content-Type: text/plain" + b";a=b" * n(2500000, 30000) + b"\r\n\r\nbody\r\n",
      TOO_COMPLEX + "more than 50000 addresses, parameters and message ids in the headers")

# References with 1.6 million ids (10 MB): 394 MB.
write("limit-references-1600000",
      HEAD + mid("refs") + b"References:" + b" <a@b>" * n(1600000, 30000) + b"\r\n\r\nbody\r\n",
      TOO_COMPLEX + "more than 50000 addresses, parameters and message ids in the headers")

# 100,000 nested multiparts (6 MB); GMime stops at its own depth, the cap
# is 64.
write("limit-nesting-multipart-100000",
      HEAD + mid("deepmp") + b"Content-Type: multipart/mixed; boundary=b0\r\n\r\n"
      + b"".join(b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1)
                 for i in range(n(100000, 100))) + b"--b%d\r\n\r\nbottom\r\n" % n(100000, 100),
      TOO_COMPLEX + "more than 64 levels of MIME nesting")

# A text of nothing but line breaks (10 MB): 24 bytes a line in the trimmer.
write("limit-text-newlines",
      HEAD + mid("newlines") + b"Content-Type: text/plain\r\n\r\nthe answer\n" + b"\n" * n(10 << 20, 200000),
      "exit 0\njq .reply_text | test(\"the answer\")")

# 1.5 million unclosed elements (9 MB); the open elements are capped.
write("limit-html-open-elements",
      HEAD + mid("spans") + b"Content-Type: text/html\r\n\r\n<p>the answer</p>" + b"<span>" * n(1500000, 30000),
      "exit 0\njq .reply_text | test(\"the answer\")")

# 10 MB of bytes invalid in the declared charset: each is one U+FFFD.
write("limit-charset-invalid-bytes",
      HEAD + mid("cp") + b"Content-Type: text/plain; charset=iso-2022-jp\r\n\r\nthe answer\r\n"
      + b"\x81" * n(10 << 20, 200000),
      "exit 0\njq .reply_text | test(\"the answer\")")

# Long texts in multibyte charsets, converted in 1 KiB steps: a sequence cut
# by a step's end must come out whole, never as U+FFFD (Shift_JIS and the
# stateful ISO-2022-JP; a leading "x" puts the pairs across the steps).
for cs in ("shift_jis", "iso-2022-jp"):
    text = "x" + "日本語のテキスト、" * 3000
    write("long-" + cs,
          HEAD + mid("long-" + cs) + b"Content-Type: text/plain; charset=" + cs.encode()
          + b"\r\n\r\n" + text.encode(cs) + b"\r\n",
          "exit 0\njq .reply_text | contains(\"\\ufffd\") | not\n"
          "jq .reply_text | test(\"^x(日本語のテキスト、){3000}$\")")

# A multipart whose declared boundary never appears, and whose body uses
# another one with 400,000 empty parts: the second parse (of the body with
# the boundary it really uses) is held to the same caps, so the body stays
# text (main's extraction branch peaked at 554 MB on it).
write("limit-reparse-parts-400000",
      HEAD + mid("reparse") + b"Content-Type: multipart/mixed; boundary=never\r\n\r\n"
      + b"--X\r\nContent-Type: text/plain\r\n\r\nthe answer\r\n" + b"--X\r\n\r\n" * n(400000, 12000)
      + b"--X--\r\n",
      "exit 0\njq .reply_text | test(\"the answer\")\njq .attachments | length == 0")
