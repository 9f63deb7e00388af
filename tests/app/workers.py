#!/usr/bin/python3
"""workers.py - application-side helpers for tests/app/queue.sh, in the
language and driver (psycopg2) an application would use.

  workers.py drain CONNINFO N_WORKERS FAIL_EVERY OUT
      N_WORKERS threads each claim batches with replygate.claim() and, by an
      injected rule, fail every FAIL_EVERY-th reply they hold (fail()), let
      every (FAIL_EVERY+1)-th lease expire (no ack; they forget it), crash a
      connection mid-batch now and then, and ack the rest. They stop when
      claim() has had nothing for a while and nothing is left to come back.
      OUT gets one line per successful ack: "<id> <worker>".
  workers.py listen CONNINFO CHANNEL SECONDS
      LISTEN on CHANNEL and print each payload received within SECONDS.
"""
import select
import sys
import threading
import time

import psycopg2


def drain(conninfo, n_workers, fail_every, out_path):
    lock = threading.Lock()
    acks = []
    idle = {}

    def worker(name):
        conn = psycopg2.connect(conninfo)
        conn.autocommit = True
        held = 0
        quiet_since = None
        while True:
            cur = conn.cursor()
            cur.execute("SELECT id, claim_token FROM replygate.claim(%s, %s, %s)",
                        (name, 7, "2 seconds"))
            rows = cur.fetchall()
            if not rows:
                if quiet_since is None:
                    quiet_since = time.monotonic()
                # Leases of 2 s: wait long enough for every one to come back.
                if time.monotonic() - quiet_since > 5:
                    break
                time.sleep(0.2)
                continue
            quiet_since = None
            for i, (reply_id, token) in enumerate(rows):
                held += 1
                if held % 97 == 0:
                    # A worker that dies with its batch: the connection goes,
                    # the leases expire and the replies come back.
                    conn.close()
                    conn = psycopg2.connect(conninfo)
                    conn.autocommit = True
                    break
                if held % (fail_every + 1) == 0:
                    continue  # forget it: the lease runs out
                if held % fail_every == 0:
                    cur.execute("SELECT replygate.fail(%s, %s, %s, now())",
                                (reply_id, token, "injected failure"))
                    continue
                cur.execute("SELECT replygate.ack(%s, %s)", (reply_id, token))
                if cur.fetchone()[0]:
                    with lock:
                        acks.append((reply_id, name))
        conn.close()

    threads = [threading.Thread(target=worker, args=("worker-%d" % i,))
               for i in range(n_workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(out_path, "w") as out:
        for reply_id, name in acks:
            out.write("%d %s\n" % (reply_id, name))


def listen(conninfo, channel, seconds):
    conn = psycopg2.connect(conninfo)
    conn.autocommit = True
    conn.cursor().execute("LISTEN " + channel)
    print("listening", flush=True)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if select.select([conn], [], [], 0.1) == ([], [], []):
            continue
        conn.poll()
        while conn.notifies:
            print(conn.notifies.pop(0).payload, flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "drain":
        drain(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif sys.argv[1] == "listen":
        listen(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    else:
        sys.exit("usage: workers.py drain|listen ...")
