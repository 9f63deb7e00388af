-- counted.lua - a known set of decisions for the decision counters; run.sh
-- runs it twice and wants every counter to move by exactly these:
--   accept 7, fold 1, reject_key 1, reject_tls 1, strip_headers 1,
--   reject_keyless 1, discard_noreply 1, remove_noreply 1,
--   reject_auto_submitted 1, remove_auto_submitted 1, non_smtp 1, the rest 0
dofile(os.getenv("MT_LIB"))

-- accept, fold, reject_key, a foreign recipient (no decision), strip
local conn = session("TLSv1.3")
rcpt(conn, KEY, SMFIR_CONTINUE)
rcpt(conn, KEY, SMFIR_CONTINUE)
rcpt(conn, KEY_TAMPERED, SMFIR_REPLYCODE)
rcpt(conn, "alice@example.net", SMFIR_CONTINUE)
person_headers(conn, {{"X-Replygate-TLS", "forged"}})
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_CONTINUE)
mt.disconnect(conn)

-- reject_tls
conn = session(nil)
rcpt(conn, KEY, SMFIR_REPLYCODE)
mt.disconnect(conn)

-- accept, reject_keyless
conn = session("TLSv1.3")
rcpt(conn, DEDICATED, SMFIR_CONTINUE)
headers(conn, {{"From", "bob@example.org"}, {"To", DEDICATED}})
eoh(conn, SMFIR_REPLYCODE)
mt.disconnect(conn)

-- accept, discard_noreply
conn = session("TLSv1.3")
rcpt(conn, NOREPLY, SMFIR_CONTINUE)
person_headers(conn)
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_DISCARD)
mt.disconnect(conn)

-- accept 2, remove_noreply
conn = session("TLSv1.3")
rcpt(conn, KEY, SMFIR_CONTINUE)
rcpt(conn, NOREPLY, SMFIR_CONTINUE)
person_headers(conn)
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_CONTINUE)
mt.disconnect(conn)

-- accept, reject_auto_submitted
conn = session("TLSv1.3")
rcpt(conn, KEY, SMFIR_CONTINUE)
person_headers(conn, {{"Precedence", "bulk"}})
eoh(conn, SMFIR_REPLYCODE)
mt.disconnect(conn)

-- accept, remove_auto_submitted (beside another domain)
conn = session("TLSv1.3")
rcpt(conn, KEY, SMFIR_CONTINUE)
rcpt(conn, "alice@example.net", SMFIR_CONTINUE)
person_headers(conn, {{"Precedence", "bulk"}})
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_CONTINUE)
mt.disconnect(conn)

-- non_smtp
conn = mt.connect(SOCKET, 40, 0.25)
check(conn ~= nil, "mt.connect failed")
check(mt.conninfo(conn, "localhost", "127.0.0.1") == nil, "mt.conninfo failed")
check(mt.helo(conn, "localhost") == nil, "mt.helo failed")
check(mt.mailfrom(conn, "<root@localhost>") == nil, "mt.mailfrom failed")
rcpt_local(conn, KEY, SMFIR_CONTINUE)
person_headers(conn)
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_CONTINUE)
mt.disconnect(conn)
