-- dedicated-noreply.lua - the bare dedicated address without a key beside the
-- no-reply address: nothing is left to deliver, so the message is discarded.
-- log: 4F2A21041E3: discard: END-OF-MESSAGE from mail.example.org[192.0.2.10]: message to the no-reply address and to the dedicated address without a reply key discarded; from=<bob@example.org> to=<@NOREPLY@>
dofile(os.getenv("MT_LIB"))
local conn = session("TLSv1.3")
rcpt(conn, DEDICATED, SMFIR_CONTINUE)
rcpt(conn, NOREPLY, SMFIR_CONTINUE)
headers(conn, {
    {"From", "Bob <bob@example.org>"},
    {"To", DEDICATED},
    {"Subject", "Re: your notification"},
})
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_DISCARD)
mt.disconnect(conn)
