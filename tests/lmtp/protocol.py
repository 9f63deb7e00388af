#!/usr/bin/env python3
"""protocol.py - replygate-lmtpd driven directly, with no Postfix (issue 15).

Started by protocol.sh, which brings up a throwaway PostgreSQL and migrates
it. This script starts the service on a unix socket in a temporary folder
and speaks LMTP to it (lmtpclient.py): pipelined commands, several
recipients with mixed outcomes in one transaction, a body line that is only
a dot, bare LF, a message over the size limit, garbage commands, a client
that disconnects during DATA, the session limit, time-outs, XFORWARD and
ORCPT, reloads (SIGHUP, a broken file, a changed secrets file), the pool
exhausted and PostgreSQL stopped (451, then stored once), SIGTERM with a
message in flight, and 1,000 sessions in a row without the service growing.
Prints TAP.

Environment: LMTPD, SRC, PG_DIR, PG_CONNINFO, PG_BIN, T (a temp folder),
LMTPD_WRAPPER (optional, e.g. "valgrind ..." to run the service under it).
"""
import hashlib
import hmac
import os
import re
import select
import shlex
import signal
import socket
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lmtpclient import Lmtp, LmtpError, begin, stuff, transaction, wait_for  # noqa: E402

LMTPD = os.environ["LMTPD"]
SRC = os.environ["SRC"]
T = os.environ["T"]
PG_DIR = os.environ["PG_DIR"]
PG_CONNINFO = os.environ["PG_CONNINFO"]
PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
WRAPPER = shlex.split(os.environ.get("LMTPD_WRAPPER", ""))
SESSIONS = int(os.environ.get("RG_SESSIONS", "1000"))

SECRET = "0123456789abcdef0123456789abcdef-lmtp-test"
SECRET2 = "fedcba9876543210fedcba9876543210-rotated-in"
SOCK = os.path.join(T, "lmtp.sock")
CONF = os.path.join(T, "replygate.conf")
SECRETS = os.path.join(T, "secrets")
SPOOL = os.path.join(T, "spool")
ERRLOG = os.path.join(T, "lmtpd.err")

n = 0
failed = 0


def ok(cond, label, *diag):
    global n, failed
    n += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, label))
    if not cond:
        failed += 1
        for d in diag:
            print("#   %s" % d)
    sys.stdout.flush()
    return cond


def is_(got, want, label):
    return ok(got == want, label, "got:  %r" % (got,), "want: %r" % (want,))


def like(got, pattern, label):
    return ok(re.search(pattern, got or "") is not None, label, "got:  %r" % (got,),
              "want match: %r" % pattern)


def sql(query):
    out = subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-q", "-A", "-t", "-v",
                          "ON_ERROR_STOP=1", PG_CONNINFO, "-c", query],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def pg(action):
    # pg.sh empties PG_DIR when sourced: set it again after.
    subprocess.run(["bash", "-c", '. "$SRC/tests/lib/pg.sh"; PG_DIR=%s; pg_%s'
                    % (shlex.quote(PG_DIR), action)], check=True)


def address(kind, target, user, secret=SECRET):
    mac = hmac.new(secret.encode(), ("%s-%d-%d" % (kind, target, user)).encode(),
                   hashlib.sha256).hexdigest()[:40]
    return "reply+%s-%d-%s-%d@reply.example.com" % (kind, target, mac, user)


def write_config(**extra):
    lines = [
        "reply_domain = reply.example.com",
        "secrets_file = " + SECRETS,
        "database = " + PG_CONNINFO,
        "spool_directory = " + SPOOL,
        "processor_log = " + os.path.join(T, "replygate.log"),
        "syslog_socket = " + os.path.join(T, "no-syslog"),
        "max_message_size = 100000",
        "lmtp_socket = unix:" + SOCK,
        "lmtp_max_sessions = 5",
    ]
    lines = [l for l in lines if l.split(" = ")[0] not in extra]
    lines += ["%s = %s" % kv for kv in extra.items()]
    with open(CONF + ".new", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.rename(CONF + ".new", CONF)


def message(mid, body="Thanks, that fixed it.\n", to="x@reply.example.com", extra=""):
    return ("From: Bob Example <bob@example.org>\n"
            "To: %s\n"
            "Subject: Re: [app] Issue #1\n"
            "Date: Sat, 21 Nov 2026 15:13:00 +0000\n"
            "Message-ID: <%s>\n"
            "%s"
            "MIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=utf-8\n"
            "\n%s" % (to, mid, extra, body))


def rows(where="true"):
    return int(sql("SELECT count(*) FROM replygate.messages WHERE " + where))


def spool_count(folder):
    path = os.path.join(SPOOL, folder)
    return len([f for f in os.listdir(path) if not f.endswith(".reason")]) if os.path.isdir(
        path) else 0


def errlog():
    with open(ERRLOG, errors="replace") as f:
        return f.read()


class Service:
    def __init__(self):
        self.proc = None

    def start(self, errlog=ERRLOG, env=None):
        self.log = open(errlog, "a")
        self.proc = subprocess.Popen(WRAPPER + [LMTPD, "-f", "--config", CONF],
                                     stdout=self.log, stderr=self.log, env=env)
        if not wait_for(lambda: os.path.exists(SOCK) or self.proc.poll() is not None, 120):
            raise RuntimeError("the service did not start")
        if self.proc.poll() is not None:
            raise RuntimeError("the service exited: %d" % self.proc.returncode)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=120):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def rss_kb(self):
        # The service itself (under a wrapper, the wrapper is the process).
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait(120) is None:
                self.proc.kill()
                self.proc.wait()


A = address("i", 1, 5)
B = address("p", 7, 9)

with open(SECRETS, "w") as f:
    f.write(SECRET + "\n")
os.chmod(SECRETS, 0o600)
write_config()
svc = Service()
# Started as a shell's usual umask would start it: the socket is 0660 all the
# same (lmtp(8) runs as postfix, a member of the folder's group).
old_umask = os.umask(0o022)
svc.start()
os.umask(old_umask)
is_(oct(stat.S_IMODE(os.lstat(SOCK).st_mode)), oct(0o660),
    "the socket is 0660 although the service was started with umask 022")

try:
    # --- greeting and LHLO: the capabilities of issue 15's Pinned -----------
    c = Lmtp(SOCK)
    code, lines = c.reply()
    is_(code, 220, "greeting is 220")
    code, lines = c.cmd("LHLO mx.example.com")
    caps = [l[4:] for l in lines[1:]]
    is_(code, 250, "LHLO: 250")
    is_(caps, ["PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME", "SMTPUTF8", "SIZE 100000", "DSN",
               "XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE"], "LHLO: the pinned capabilities")
    is_(c.cmd("HELO x")[0], 500, "HELO is not LMTP: 500")
    is_(c.cmd("EHLO x")[0], 500, "EHLO is not LMTP: 500")
    is_(c.cmd("RCPT TO:<%s>" % A)[1][0][:9], "503 5.5.1", "RCPT before MAIL: 503 5.5.1")
    is_(c.cmd("DATA")[1][0][:9], "503 5.5.1", "DATA before MAIL: 503 5.5.1")
    is_(c.cmd("NOOP")[1][0], "250 2.0.0 Ok", "NOOP")
    is_(c.cmd("RSET")[1][0], "250 2.0.0 Ok", "RSET")
    is_(c.cmd("MAIL FROM:<bob@example.org> SIZE=200000")[1][0][:9], "552 5.3.4",
        "MAIL SIZE= over max_message_size: 552 5.3.4")
    is_(c.cmd("MAIL FROM:<bob@example.org> BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=x+2By")[0], 250,
        "MAIL with BODY, SMTPUTF8, RET, ENVID: 250")
    is_(c.cmd("MAIL FROM:<bob@example.org>")[1][0][:9], "503 5.5.1", "nested MAIL: 503 5.5.1")
    is_(c.cmd("RCPT TO:<%s> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x+2By@z" % A)[0], 250,
        "RCPT with NOTIFY and ORCPT: 250")
    is_(c.cmd("RCPT TO:<%s> NOTIFY=NEVER,DELAY" % A)[0], 501, "NOTIFY=NEVER with more: 501")
    is_(c.cmd("RCPT TO:<%s> FOO=bar" % A)[0], 555, "unknown RCPT parameter: 555")
    is_(c.cmd("RCPT TO:<>")[0], 501, "RCPT TO:<>: 501")
    is_(c.cmd("XFORWARD IDENT=ABC")[1][0][:9], "503 5.5.1", "XFORWARD inside a transaction: 503")
    is_(c.cmd("VRFY %s" % A)[0], 252, "VRFY: 252")
    is_(c.cmd("QUIT")[0], 221, "QUIT: 221")
    ok(c.closed(), "QUIT closes the connection")
    c.close()

    # --- pipelined, several recipients, mixed outcomes ------------------------
    before = rows()
    rcpts, replies = transaction(
        SOCK, "bob@example.org", [A, "nobody@reply.example.com", B, "broken address"],
        message("mixed-1@example.org", to="team@example.org"),
        xforward="NAME=mail.example.org ADDR=IPV6:2001+3Adb8+3A+3A10 PORT=4711 PROTO=ESMTP "
                 "HELO=mail.example.org IDENT=7F3A2B1C SOURCE=REMOTE")
    is_([r[0] for r in rcpts], [250, 250, 250, 501], "pipelined: RCPT replies in order")
    is_([r[1][0][:9] for r in replies], ["250 2.0.0", "550 5.1.1", "250 2.0.0"],
        "one reply per accepted recipient, in order: stored, no key, stored")
    is_(rows() - before, 2, "two rows for the two keyed recipients")
    is_(sql("SELECT queue_id || ' ' || client_address FROM replygate.messages "
            "WHERE message_id = 'mixed-1@example.org' LIMIT 1"), "7F3A2B1C 2001:db8::10",
        "XFORWARD IDENT is the queue id, ADDR the client (IPV6: removed)")
    is_(spool_count("failure"), 1, "the refused recipient's copy is in failure/")
    like(errlog(), r"7F3A2B1C: message-id=<mixed-1@example.org>, key=i-1-5, source=envelope, "
         r"reply=\d+, attachments=0, status=stored", "mail.log line with Postfix's queue id")

    # --- a stored reply is answered once; the bookkeeping follows the answer ---
    # The core answers a stored reply as soon as it committed (with its copy on
    # disk), then moves the copy to success/ and logs: one answer, then the
    # session goes on, and by the time QUIT is answered all of it is done.
    in_success = spool_count("success")
    c = begin(SOCK, "bob@example.org", [A], xforward="IDENT=EARLY1")[0]
    c.send(stuff(message("early-1@example.org", to=A)))
    is_(c.reply()[1][0][:9], "250 2.0.0", "answered early: the reply is stored")
    is_(c.cmd("NOOP")[1], ["250 2.0.0 Ok"], "answered early: once (the next reply is NOOP's)")
    is_(c.cmd("QUIT")[0], 221, "answered early: QUIT 221")
    c.close()
    is_(spool_count("success") - in_success, 1, "answered early: then the copy is moved to success/")
    with open(os.path.join(T, "replygate.log"), errors="replace") as f:
        plog = f.read()
    like(plog, r"\(EARLY1\) #\] Moving \S+/new/\S+ => \S+/success", "answered early: and logged")
    like(errlog(), r"EARLY1: message-id=<early-1@example.org>, .*status=stored",
         "answered early: mail.log line")

    # --- the same message again: stored once ----------------------------------
    rcpts, replies = transaction(SOCK, "bob@example.org", [A], message("mixed-1@example.org", to="team@example.org"))
    is_(replies[0][1][0][:9], "250 2.0.0", "a repeated delivery: 250")
    is_(rows("message_id = 'mixed-1@example.org'"), 2, "a repeated delivery stores nothing new")

    # --- ORCPT is logged, never the key ----------------------------------------
    def xtext(s):
        return "".join(ch if 33 <= ord(ch) <= 126 and ch not in "+=" else "+%02X" % ord(ch)
                       for ch in s)
    c = Lmtp(SOCK)
    c.reply()
    c.cmd("LHLO x")
    c.cmd("MAIL FROM:<bob@example.org>")
    is_(c.cmd("RCPT TO:<nokey@reply.example.com> ORCPT=rfc822;%s" % xtext(A))[0], 250,
        "RCPT of a keyless address with a valid key in ORCPT: 250")
    c.cmd("DATA")
    c.send(stuff(message("orcpt-1@example.org", to="nokey@reply.example.com")))
    is_(c.reply()[1][0][:9], "550 5.1.1", "ORCPT is not trusted for the key: 550 5.1.1")
    c.cmd("MAIL FROM:<bob@example.org>")
    c.cmd("RCPT TO:<%s> ORCPT=utf-8;j+C3+B6rg\\x{E9}@example.org" % A)
    c.cmd("DATA")
    c.send(stuff(message("orcpt-2@example.org", to=A)))
    is_(c.reply()[1][0][:9], "250 2.0.0", "RCPT's key with a utf-8 ORCPT: 250")
    c.close()
    # A stored reply's log line follows its answer: wait for it.
    pattern = "message-id=<orcpt-2@example.org>, orcpt=<j\u00f6rg\u00e9@example.org>, key=i-1-5"
    wait_for(lambda: re.search(pattern, errlog()), 10)
    like(errlog(), pattern, "ORCPT is logged decoded (xtext and utf-8)")

    # --- a body line that is only a dot; bare LF --------------------------------
    transaction(SOCK, "bob@example.org", [A],
                message("dot-1@example.org", body="first line\n.\n..two dots\nlast\n", to=A))
    is_(sql("SELECT body_text FROM replygate.messages WHERE message_id = 'dot-1@example.org'"),
        "first line\n.\n..two dots\nlast", "a line that is only a dot, and one of two dots")
    c = Lmtp(SOCK)
    c.reply()
    c.cmd("LHLO x")
    c.send("MAIL FROM:<bob@example.org>\nRCPT TO:<%s>\nDATA\n" % A)
    codes = [c.reply()[0] for _ in range(3)]
    is_(codes, [250, 250, 354], "commands ended by bare LF")
    body = message("barelf-1@example.org", body="one\n.dot\nthree\n", to=A)
    c.send(body.replace("\n.dot", "\n..dot") + ".\n")
    is_(c.reply()[1][0][:9], "250 2.0.0", "a message in bare LF lines, ended by a bare LF dot")
    c.close()
    is_(sql("SELECT body_text FROM replygate.messages WHERE message_id = 'barelf-1@example.org'"),
        "one\n.dot\nthree", "bare LF: the body as sent")

    # --- over the size limit, counted while reading ------------------------------
    before_fail = spool_count("failure")
    big = message("big-1@example.org", body=("x" * 70 + "\n") * 2000, to=A)
    rcpts, replies = transaction(SOCK, "bob@example.org", [A], big)
    is_(replies[0][1][0][:9], "552 5.3.4", "a message over max_message_size: 552 5.3.4")
    is_(spool_count("failure") - before_fail, 1, "its first bytes are kept in failure/")
    sizes = [os.path.getsize(os.path.join(SPOOL, "failure", f))
             for f in os.listdir(os.path.join(SPOOL, "failure")) if not f.endswith(".reason")]
    ok(max(sizes) == 100000, "only max_message_size bytes are kept", "sizes: %r" % sizes)
    is_(rows("message_id = 'big-1@example.org'"), 0, "nothing stored for it")

    # --- garbage, long lines, too many errors ------------------------------------
    c = Lmtp(SOCK)
    c.reply()
    is_(c.cmd("\x00\x01garbage \xff")[1][0][:9], "500 5.5.2", "garbage: 500 5.5.2")
    is_(c.cmd("MAIL FROM:bob@example.org")[1][0][:9], "503 5.5.1", "MAIL before LHLO: 503")
    is_(c.cmd("X" * 10000)[1][0], "500 5.5.2 Error: line too long", "a 10,000-byte line: 500")
    c.cmd("LHLO x")
    is_(c.cmd("MAIL FROM:bob@example.org")[0], 501, "MAIL without angle brackets: 501")
    is_(c.cmd("MAIL FROM:<bob@example.org> SIZE=12x")[0], 501, "a bad SIZE: 501")
    is_(c.cmd("XFORWARD FOO=bar")[0], 501, "an unknown XFORWARD attribute: 501")
    codes = [c.cmd("FOO %d" % i)[0] for i in range(14)]
    code, lines = c.reply() if codes[-1] == 500 else (codes[-1], [])
    is_(code, 421, "the 20th error: 421")
    ok(c.closed(), "and the session is closed")
    c.close()

    # --- a client that disconnects during DATA -------------------------------------
    before, before_new = rows(), spool_count("new")
    c = begin(SOCK, "bob@example.org", [A])[0]
    c.send(stuff(message("gone-1@example.org", to=A))[:-20])
    c.close()
    time.sleep(0.5)
    is_(rows() - before, 0, "disconnect during DATA: nothing stored")
    is_(spool_count("new") - before_new, 0, "disconnect during DATA: nothing left in new/")
    rcpts, replies = transaction(SOCK, "bob@example.org", [A], message("after-gone@example.org"))
    is_(replies[0][0], 250, "the service goes on serving")

    # --- the session limit ------------------------------------------------------------
    held = []
    for i in range(5):
        h = Lmtp(SOCK)
        h.reply()
        held.append(h)
    c = Lmtp(SOCK)
    code, lines = c.reply()
    is_(lines[0][:9], "421 4.3.2", "a 6th session over lmtp_max_sessions = 5: 421 4.3.2")
    ok(c.closed(), "and it is closed")
    c.close()
    for h in held:
        h.cmd("QUIT")
        h.close()
    time.sleep(0.3)
    c = Lmtp(SOCK)
    is_(c.reply()[0], 220, "once they are gone, a new session is served")
    c.close()

    # --- reloads: SIGHUP, a broken file, the secrets file changing ---------------------
    write_config(lmtp_idle_timeout="2s", lmtp_command_timeout="4s")
    svc.signal(signal.SIGHUP)
    ok(wait_for(lambda: "configuration reloaded" in errlog(), 30), "SIGHUP reloads")
    c = Lmtp(SOCK)
    c.reply()
    t0 = time.time()
    code, lines = c.reply()
    is_(lines[0][:9], "421 4.4.2", "idle past lmtp_idle_timeout: 421 4.4.2")
    c.close()
    c = begin(SOCK, "bob@example.org", [A])[0]
    before = rows()
    for i in range(12):  # a message trickling in, a line a second, until the server speaks
        if select.select([c.sock], [], [], 1.0)[0]:
            break
        c.send("X-Trickle: %d\r\n" % i)
    try:
        code, lines = c.reply()
    except (LmtpError, OSError) as e:
        code, lines = 0, [str(e)]
    like(lines[0], r"^421 4\.4\.2", "DATA trickling past lmtp_command_timeout: 421 4.4.2")
    is_(rows() - before, 0, "and nothing is stored")
    c.close()

    with open(CONF, "a") as f:
        f.write("no_such_name = 1\n")
    svc.signal(signal.SIGHUP)
    ok(wait_for(lambda: "reload (SIGHUP) failed, keeping the previous configuration" in errlog(),
                30), "a broken file: the reload fails and says why")
    like(errlog(), r"no_such_name", "the complaint names the bad line")
    rcpts, replies = transaction(SOCK, "bob@example.org", [A], message("after-broken@example.org"))
    is_(replies[0][1][0][:9], "250 2.0.0", "the old configuration keeps serving")

    write_config()
    ok(wait_for(lambda: errlog().count("configuration reloaded") >= 2, 30),
       "a changed configuration file is reloaded without a signal")
    with open(SECRETS + ".new", "w") as f:
        f.write(SECRET2 + "\n" + SECRET + "\n")
    os.chmod(SECRETS + ".new", 0o600)
    os.rename(SECRETS + ".new", SECRETS)
    ok(wait_for(lambda: errlog().count("configuration reloaded") >= 3, 30),
       "a replaced secrets file is reloaded without a signal")
    rcpts, replies = transaction(SOCK, "bob@example.org", [address("i", 3, 4, SECRET2)],
                                 message("new-secret@example.org"))
    is_(replies[0][1][0][:9], "250 2.0.0", "an address signed with the new secret is accepted")

    # --- the pool exhausted: 451, not a hang ---------------------------------------------
    write_config(lmtp_pool_size="1", lmtp_pool_wait="2s")
    svc.signal(signal.SIGHUP)
    ok(wait_for(lambda: errlog().count("configuration reloaded") >= 4, 30), "pool of one")
    locker = subprocess.Popen([os.path.join(PG_BIN, "psql"), "-X", "-q", PG_CONNINFO],
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    locker.stdin.write("BEGIN; LOCK TABLE replygate.messages IN ACCESS EXCLUSIVE MODE;\n")
    locker.stdin.flush()
    time.sleep(1)
    first = begin(SOCK, "bob@example.org", [A])[0]
    first.send(stuff(message("pool-1@example.org", to=A)))
    time.sleep(1)  # the first delivery holds the one connection, waiting on the lock
    t0 = time.time()
    rcpts, replies = transaction(SOCK, "bob@example.org", [A], message("pool-2@example.org"))
    waited = time.time() - t0
    is_(replies[0][1][0], "451 4.3.0 temporary problem at the receiving site, delivery deferred",
        "no pooled connection within lmtp_pool_wait: 451 4.3.0, the generic text")
    like(errlog(), r"status=deferred \(4\.3\.0 no database connection free",
         "  mail.log says why")
    ok(waited < 60, "answered, not hung (%.1f s)" % waited)
    locker.stdin.write("COMMIT;\n")
    locker.stdin.close()
    locker.wait()
    is_(first.reply()[1][0][:9], "250 2.0.0", "the delivery that held the connection is stored")
    first.close()
    rcpts, replies = transaction(SOCK, "bob@example.org", [A], message("pool-2@example.org"))
    is_(replies[0][1][0][:9], "250 2.0.0", "the deferred one is stored when retried")
    is_(rows("message_id in ('pool-1@example.org', 'pool-2@example.org')"), 2,
        "each stored once")

    # --- the memory budget: a message that finds none is deferred, 451 4.3.1 -----------------
    write_config(lmtp_memory_budget="800000", lmtp_pool_wait="1s")
    svc.signal(signal.SIGHUP)
    ok(wait_for(lambda: errlog().count("configuration reloaded") >= 5, 30),
       "a budget of 8 x max_message_size: one message at a time")
    first = begin(SOCK, "bob@example.org", [A])[0]
    data = stuff(message("budget-1@example.org", to=A))
    first.send(data[:200])  # holds the whole budget while its DATA is read
    time.sleep(0.5)
    rcpts, replies = transaction(SOCK, "bob@example.org", [A], message("budget-2@example.org"))
    like(replies[0][1][0], r"^451 4\.3\.1 ", "a second message finds no budget: 451 4.3.1")
    first.send(data[200:])
    is_(first.reply()[1][0][:9], "250 2.0.0", "the message that held the budget is stored")
    first.close()
    rcpts, replies = transaction(SOCK, "bob@example.org", [A], message("budget-2@example.org"))
    is_(replies[0][1][0][:9], "250 2.0.0", "budget given back: the deferred one is stored")

    # --- PostgreSQL stopped: 451, the broken connection replaced ----------------------------
    pg("stop")
    rcpts, replies = transaction(SOCK, "bob@example.org", [A], message("pgdown-1@example.org"))
    like(replies[0][1][0], r"^451 4\.3\.0 ", "PostgreSQL stopped: 451 4.3.0")
    is_(spool_count("new"), 0, "nothing left in new/")
    pg("restart")
    rcpts, replies = transaction(SOCK, "bob@example.org", [A], message("pgdown-1@example.org"))
    is_(replies[0][1][0][:9], "250 2.0.0", "PostgreSQL back: the retry is stored")
    is_(rows("message_id = 'pgdown-1@example.org'"), 1, "stored once")

    # --- the spool copy fails while its row commits -----------------------------------------
    # The copy is written and fsync'd while the transaction runs; a 250 needs
    # both, so a copy that cannot go into new/ defers a reply that is stored
    # already, and the retry finds the row. (new/ as a file stops even root.)
    new_dir = os.path.join(SPOOL, "new")
    os.rename(new_dir, new_dir + ".aside")
    with open(new_dir, "w") as f:
        f.write("not a folder\n")
    before_tmp = spool_count("tmp")
    rcpts, replies = transaction(SOCK, "bob@example.org", [A], message("nocopy-1@example.org"),
                                 xforward="IDENT=NOCOPY1")
    os.unlink(new_dir)
    os.rename(new_dir + ".aside", new_dir)
    like(replies[0][1][0], r"^451 4\.3\.0 ", "no spool copy although the row committed: 451 4.3.0")
    is_(rows("message_id = 'nocopy-1@example.org'"), 1, "the row is in the database")
    like(errlog(), r"NOCOPY1: message-id=<nocopy-1@example.org>, status=deferred \(4\.3\.0 spool: "
         r"cannot rename into .*Not a directory \(the reply is stored: the retry finds it\)\)",
         "mail.log says why, and that the retry finds the row")
    is_(spool_count("tmp") - before_tmp, 0, "nothing left in tmp/")
    rcpts, replies = transaction(SOCK, "bob@example.org", [A], message("nocopy-1@example.org"),
                                 xforward="IDENT=NOCOPY1")
    is_(replies[0][1][0][:9], "250 2.0.0", "the retry: 250")
    is_(rows("message_id = 'nocopy-1@example.org'"), 1, "stored once")
    like(errlog(), r"NOCOPY1: message-id=<nocopy-1@example.org>, .*status=duplicate",
         "the retry is logged as the duplicate it is")

    # --- a database that never answers: one wait, not one per ask ---------------------------
    # A host that accepts the connection and says nothing. A message of 64 KB
    # or more asks for a connection twice (its duplicate check, its insert),
    # and a transaction's next recipient asks again: the first failure
    # answers them all at once.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    held = []
    reloads = errlog().count("configuration reloaded")
    write_config(database="host=127.0.0.1 port=%d dbname=replygate user=postgres connect_timeout=3"
                 % silent.getsockname()[1])
    svc.signal(signal.SIGHUP)
    wait_for(lambda: errlog().count("configuration reloaded") > reloads, 30)
    big = message("silent-1@example.org", to=A, body=("y" * 70 + "\n") * 1000)
    t0 = time.monotonic()
    rcpts, replies = transaction(SOCK, "bob@example.org", [A, B], big, xforward="IDENT=SILENT1")
    took = time.monotonic() - t0
    for conn, _ in iter(lambda: silent.accept() if select.select([silent], [], [], 0)[0] else None,
                        None):
        held.append(conn)
    is_([r[1][0][:9] for r in replies], ["451 4.3.0", "451 4.3.0"],
        "a database that never answers: both recipients 451 4.3.0")
    # Each ask of the pool that is not answered from the first failure opens
    # a connection of its own (the old code: four, one per ask).
    is_(len(held), 1, "a database that never answers: one connection tried for the "
        "transaction's four asks")
    print("# the transaction took %.1f s (connect_timeout = 3 s)" % took)
    for conn in held:
        conn.close()
    silent.close()

    # --- 1,000 sessions in a row without growing ------------------------------------------
    reloads = errlog().count("configuration reloaded")
    write_config()
    svc.signal(signal.SIGHUP)
    wait_for(lambda: errlog().count("configuration reloaded") > reloads, 30)
    warm = max(SESSIONS // 10, 1)
    msgs = [message("loop-%d@example.org" % (i % 50), to=A) for i in range(50)]
    errors = 0
    rss_warm = None
    for i in range(SESSIONS):
        rcpt = [A, "nobody@reply.example.com"][i % 2]
        try:
            rcpts, replies = transaction(SOCK, "bob@example.org", [rcpt], msgs[i % 50])
            if replies[0][0] not in (250, 550):
                errors += 1
        except (LmtpError, OSError):
            errors += 1
        if i + 1 == warm:
            rss_warm = svc.rss_kb()
    rss_end = svc.rss_kb()
    is_(errors, 0, "%d sessions in a row, each a delivery: all answered" % SESSIONS)
    # Under valgrind freed blocks wait in its quarantine, so memory is judged
    # by its leak check at exit instead (the last case).
    ok(WRAPPER or rss_end - rss_warm < 8 * 1024,
       "memory after %d sessions within 8 MiB of after %d" % (SESSIONS, warm),
       "rss after %d: %d KiB, after %d: %d KiB" % (warm, rss_warm, SESSIONS, rss_end))
    print("# rss after %d sessions: %d KiB; after %d: %d KiB" % (warm, rss_warm, SESSIONS,
                                                                 rss_end))

    # --- metrics --------------------------------------------------------------------------
    prom = os.path.join(SPOOL, "metrics", "lmtp.prom")
    ok(wait_for(lambda: os.path.exists(prom), 15), "lmtp.prom is written")
    with open(prom) as f:
        text = f.read()
    like(text, r'replygate_lmtp_deliveries_total\{outcome="stored"\} [1-9]',
         "lmtp.prom counts stored deliveries")
    like(text, r"replygate_lmtp_sessions_refused_total [1-9]", "and refused sessions")

    # --- SIGTERM with a message in flight: finished, then exit --------------------------------
    c = begin(SOCK, "bob@example.org", [A])[0]
    data = stuff(message("term-1@example.org", to=A))
    c.send(data[:40])
    idle = Lmtp(SOCK)
    idle.reply()
    time.sleep(0.5)
    svc.signal(signal.SIGTERM)
    time.sleep(1)
    code, lines = idle.reply()
    like(lines[0], r"^421 4\.3\.2 ", "SIGTERM: an idle session is told 421 4.3.2")
    idle.close()
    ok(svc.proc.poll() is None, "SIGTERM: the service waits for the message in flight")
    c.send(data[40:])
    is_(c.reply()[1][0][:9], "250 2.0.0", "the message in flight is stored after SIGTERM")
    c.close()  # the session then says 421 4.3.2 itself
    is_(svc.wait(120), 0, "then the service exits 0")
    ok(not os.path.exists(SOCK), "and removes its socket")
    is_(rows("message_id = 'term-1@example.org'"), 1, "the message is stored once")

    # --- under systemd, standard error is the journal, which has the lines ----------------
    # systemd names the stream it connects in $JOURNAL_STREAM (DEVICE:INODE):
    # the journal gets every line from /dev/log already, so -f copies none.
    syslog_path = os.path.join(T, "syslog.sock")
    syslog = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    syslog.bind(syslog_path)
    syslog.settimeout(10)
    write_config(syslog_socket=syslog_path)
    for case, journal in (("journal", True), ("a file", False)):
        out = os.path.join(T, "stderr-%s" % case.replace(" ", "-"))
        open(out, "w").close()
        st = os.stat(out if journal else CONF)
        env = dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
        svc.start(errlog=out, env=env)
        mid = "journal-%s@example.org" % case.replace(" ", "-")
        c = begin(SOCK, "bob@example.org", [A])[0]
        c.send(stuff(message(mid, to=A)))
        is_(c.reply()[1][0][:9], "250 2.0.0", "stderr is %s: the reply is stored" % case)
        c.cmd("QUIT")
        c.close()
        lines = []
        try:
            while not any(mid in l for l in lines):
                lines.append(syslog.recv(65536).decode(errors="replace"))
        except socket.timeout:
            pass
        like("\n".join(lines), r"replygate/lmtpd\[\d+\]: \S+: message-id=<%s>, .*status=stored"
             % re.escape(mid), "stderr is %s: the line goes to syslog_socket" % case)
        svc.stop()
        with open(out, errors="replace") as f:
            copied = [l for l in f.read().splitlines() if mid in l]
        if journal:
            is_(copied, [], "stderr is the journal ($JOURNAL_STREAM): -f copies no line to it")
        else:
            like("\n".join(copied), r"status=stored",
                 "stderr is not the journal ($JOURNAL_STREAM names another file): -f copies")
    syslog.close()

    log = errlog()
    if WRAPPER:
        bad = [l for l in log.splitlines() if re.search(r"Invalid|uninitialised|definitely lost|"
                                                         r"ERROR SUMMARY: [1-9]", l)]
        ok(not bad, "valgrind: no errors, nothing definitely lost", *bad[:20])
finally:
    svc.stop()

print("1..%d" % n)
sys.exit(1 if failed else 0)
