#!/usr/bin/env python3
"""smtpclient.py - SMTP over STARTTLS for the fault, load and security suites.

    smtpclient.py send --port P --to ADDR --count N --connections C --prefix ID
                  [--messages-per-connection M] [--file RAW]
        N messages over C concurrent connections, each STARTTLS; Message-ID
        <ID.K@load.example.org> for K = 1..N. Prints one line per message,
        "K CODE QUEUEID" (QUEUEID "-" when refused), then "sent=S refused=R".
        With --file, every message is that raw message (bytes), with its
        Message-ID header replaced (kept as it is with --keep-message-id).
        --reverse sends K = N first, down to 1.
    smtpclient.py rcpt-mutations --port P --address ADDR --count N --seed S
        One STARTTLS session; RCPT TO for N random changes of ADDR (plus the
        original first, which must be accepted). Prints "CODE ADDRESS" lines.
        --per-connection K starts a new session every K RCPTs (default 8,
        before smtpd's default error limits slow the session down).

The certificate is self-signed: it is not verified (the tests check that TLS
was used, not who answered).
"""
import argparse
import random
import smtplib
import ssl
import sys
import threading


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def connect(port):
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.example.org", timeout=120)
    s.ehlo()
    s.starttls(context=tls_context())
    s.ehlo()
    return s


def message(to, mid, raw, keep_id=False):
    if raw is not None and keep_id:
        return raw
    if raw is not None:
        lines = [l for l in raw.split(b"\n") if not l.lower().startswith(b"message-id:")]
        return b"Message-ID: <" + mid.encode() + b">\r\n" + b"\n".join(lines)
    return ("From: Load Test <bob@example.org>\r\nTo: %s\r\nSubject: Re: load %s\r\n"
            "Message-ID: <%s>\r\nDate: Sun, 22 Nov 2026 13:00:00 +0000\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            "Reply %s: looks good to me.\r\n\r\n"
            "On Sun, Nov 22, 2026 at 1:00 PM App <app@example.com> wrote:\r\n> the question\r\n"
            % (to, mid, mid, mid)).encode()


def cmd_send(a):
    raw = open(a.file, "rb").read() if a.file else None
    lock = threading.Lock()
    results = {}
    todo = list(range(1, a.count + 1))
    if a.reverse:
        todo.reverse()

    def worker():
        s = None
        done_here = 0
        while True:
            with lock:
                if not todo:
                    break
                k = todo.pop(0)
            mid = "%s.%d@load.example.org" % (a.prefix, k)
            for attempt in range(5):
                try:
                    if s is None:
                        s = connect(a.port)
                        done_here = 0
                    s.mail("bob@example.org")
                    code, _ = s.rcpt(a.to)
                    if code >= 400:
                        s.rset()
                        results[k] = (code, "-")
                        break
                    code, resp = s.data(message(a.to, mid, raw, a.keep_message_id))
                    qid = resp.decode(errors="replace").rsplit(" ", 1)[-1] if code == 250 else "-"
                    results[k] = (code, qid)
                    done_here += 1
                    if a.messages_per_connection and done_here >= a.messages_per_connection:
                        s.quit()
                        s = None
                    break
                except smtplib.SMTPResponseException as e:
                    results[k] = (e.smtp_code, "-")
                    s = None
                    break
                except (OSError, smtplib.SMTPException) as e:
                    results[k] = (0, "error:%s" % type(e).__name__)
                    s = None
        if s is not None:
            try:
                s.quit()
            except (OSError, smtplib.SMTPException):
                pass

    threads = [threading.Thread(target=worker) for _ in range(a.connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent = 0
    for k in sorted(results):
        code, qid = results[k]
        print(k, code, qid)
        sent += code == 250
    print("sent=%d refused=%d" % (sent, a.count - sent))
    return 0


def mutate(rng, text):
    alphabet = "0123456789abcdef+-.@xyzr"
    s = list(text)
    for _ in range(rng.randint(1, 3)):
        pos = rng.randrange(len(s))
        op = rng.randrange(4)
        if op == 0:
            s[pos] = rng.choice(alphabet)
        elif op == 1:
            s.insert(pos, rng.choice(alphabet))
        elif op == 2 and len(s) > 1:
            del s[pos]
        elif op == 3 and pos + 1 < len(s):
            s[pos], s[pos + 1] = s[pos + 1], s[pos]
    return "".join(s)


def cmd_rcpt(a):
    rng = random.Random(a.seed)
    s = connect(a.port)
    s.mail("bob@example.org")
    code, _ = s.rcpt(a.address)
    print(code, a.address)
    n = 0
    while n < a.count:
        m = mutate(rng, a.address)
        if m.lower() == a.address.lower():
            continue
        n += 1
        if n % a.per_connection == 0:
            # A fresh session before smtpd's error limits slow it down or hang up.
            s.quit()
            s = connect(a.port)
            s.mail("bob@example.org")
        try:
            code, _ = s.rcpt(m)
        except smtplib.SMTPServerDisconnected:
            s = connect(a.port)
            s.mail("bob@example.org")
            code, _ = s.rcpt(m)
        print(code, m)
    s.quit()
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--to", required=True)
    s.add_argument("--count", type=int, default=1)
    s.add_argument("--connections", type=int, default=1)
    s.add_argument("--messages-per-connection", type=int, default=0)
    s.add_argument("--prefix", required=True)
    s.add_argument("--file")
    s.add_argument("--keep-message-id", action="store_true")
    s.add_argument("--reverse", action="store_true")
    r = sub.add_parser("rcpt-mutations")
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--address", required=True)
    r.add_argument("--count", type=int, default=100)
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--per-connection", type=int, default=8)
    a = p.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    return cmd_send(a) if a.cmd == "send" else cmd_rcpt(a)


if __name__ == "__main__":
    sys.exit(main())
