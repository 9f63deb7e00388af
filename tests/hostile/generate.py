#!/usr/bin/env python3
"""generate.py - write the large hostile messages into a folder at test time.

    generate.py OUTDIR

They are too big to commit (up to 10 MB); each is built the same way every
time. Like the committed ones, "@REPLY@" stands for the signed address and
NAME.want says what the outcome must be (see run-hostile.sh).
"""
import os
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
HEAD = (b"From: Bob <bob@example.org>\r\nTo: @REPLY@\r\nSubject: large\r\n"
        b"Date: Sat, 21 Nov 2026 15:13:00 +0000\r\n")


def write(name, data, want=""):
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

# 1,000 nested message/rfc822 parts.
inner = b"From: x@example.org\r\nSubject: bottom\r\n\r\nat the bottom\r\n"
for i in range(depth):
    inner = (b"From: x@example.org\r\nSubject: level %d\r\nContent-Type: multipart/mixed; boundary=r%d\r\n\r\n"
             b"--r%d\r\nContent-Type: message/rfc822\r\n\r\n" % (i, i, i)) + inner + b"\r\n--r%d--\r\n" % i
write("nesting-1000-rfc822",
      HEAD + mid("deep2") + b"Content-Type: multipart/mixed; boundary=top\r\n\r\n"
      b"--top\r\nContent-Type: text/plain\r\n\r\nsee the forward\r\n--top\r\nContent-Type: message/rfc822\r\n\r\n"
      + inner + b"\r\n--top--\r\n", "exit 0\njq .reply_text | test(\"see the forward\")")

# 1,000 nested multiparts left open (no closing boundaries at all).
write("nesting-1000-unclosed",
      HEAD + mid("deep3") + b"Content-Type: multipart/mixed; boundary=b0\r\n\r\n"
      + b"".join(b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1)
                 for i in range(depth)))

# 100,000 header fields.
write("headers-100000",
      HEAD + mid("hdrs") + b"".join(b"X-Header-%d: value %d\r\n" % (i, i) for i in range(100000))
      + b"\r\nthe reply after many headers\r\n",
      "exit 0\njq .reply_text | test(\"after many headers\")")

# 100,000 Received headers with "for" clauses that are not keys.
write("received-100000",
      b"From: Bob <bob@example.org>\r\nSubject: r\r\n" + mid("rcvd")
      + b"".join(b"Received: from h%d by mx for <reply+i-1-%040d-5@reply.example.com>; Sat, 21 Nov 2026\r\n"
                 % (i, i) for i in range(100000))
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

# 10,000 attachments.
write("parts-10000",
      HEAD + mid("parts") + b"Content-Type: multipart/mixed; boundary=p\r\n\r\n"
      + b"--p\r\nContent-Type: text/plain\r\n\r\nmany parts\r\n"
      + b"".join(b"--p\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=f%d.bin\r\n\r\n%d\r\n" % (i, i)
                 for i in range(10000)) + b"--p--\r\n",
      "exit 0\njq .attachments | length == 10000")

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
