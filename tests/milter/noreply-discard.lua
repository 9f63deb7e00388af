-- noreply-discard.lua - mail only to the no-reply address is accepted, then discarded.
-- log: 4F2A21041E3: discard: END-OF-MESSAGE from mail.example.org[192.0.2.10]: message to the no-reply address discarded; from=<bob@example.org> to=<@NOREPLY@>
dofile(os.getenv("MT_LIB"))
local conn = session("TLSv1.3")
rcpt(conn, NOREPLY, SMFIR_CONTINUE)
person_headers(conn)
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_DISCARD)
mt.disconnect(conn)
