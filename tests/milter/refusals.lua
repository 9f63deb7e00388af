-- refusals.lua - one refusal of each stage, for refusals.sh to find as rows:
--   rcpt 530 5.7.0, rcpt 550 5.1.1, headers 550 5.1.1 (the dedicated address
--   without a key), headers 550 5.7.1 (auto-submitted), message 550 5.1.1 (the
--   keyless dedicated recipient removed beside a key)
dofile(os.getenv("MT_LIB"))

local conn = session(nil)
rcpt(conn, KEY, SMFIR_REPLYCODE)
mt.disconnect(conn)

conn = session("TLSv1.3")
rcpt(conn, KEY_TAMPERED, SMFIR_REPLYCODE)
mt.disconnect(conn)

conn = session("TLSv1.3")
rcpt(conn, DEDICATED, SMFIR_CONTINUE)
headers(conn, {{"From", "Bob <bob@example.org>"}, {"To", DEDICATED},
               {"Message-ID", "<keyless-1@example.org>"}})
eoh(conn, SMFIR_REPLYCODE)
mt.disconnect(conn)

conn = session("TLSv1.3")
rcpt(conn, KEY, SMFIR_CONTINUE)
headers(conn, {{"From", "Bob <bob@example.org>"}, {"Auto-Submitted", "auto-replied"},
               {"Message-ID", "<auto-1@example.org>"}})
eoh(conn, SMFIR_REPLYCODE)
mt.disconnect(conn)

conn = session("TLSv1.3")
rcpt(conn, DEDICATED, SMFIR_CONTINUE)
rcpt(conn, KEY, SMFIR_CONTINUE)
headers(conn, {{"From", "Bob <bob@example.org>"}, {"Message-ID", "<mixed-1@example.org>"}})
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_CONTINUE)
mt.disconnect(conn)
