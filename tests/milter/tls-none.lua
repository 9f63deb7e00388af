-- tls-none.lua - require_tls: a reply address over plain text gets 530 5.7.0.
-- log: NOQUEUE: reject: RCPT from mail.example.org[192.0.2.10]: 530 5.7.0 Must issue a STARTTLS command first; from=<bob@example.org> to=<@KEY@>
dofile(os.getenv("MT_LIB"))
local conn = session(nil)
rcpt(conn, KEY, SMFIR_REPLYCODE)
-- A foreign recipient in the same session is not ours to judge.
rcpt(conn, "alice@example.net", SMFIR_CONTINUE)
mt.disconnect(conn)
