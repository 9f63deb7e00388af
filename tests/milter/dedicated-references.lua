-- dedicated-references.lua - the bare dedicated address whose key is only in
-- References (the agent's own lookup finds it) is accepted and kept.
-- nolog
dofile(os.getenv("MT_LIB"))
local conn = session("TLSv1.3")
rcpt(conn, DEDICATED, SMFIR_CONTINUE)
headers(conn, {
    {"From", "Bob <bob@example.org>"},
    {"To", DEDICATED},
    {"Subject", "Re: issue 1"},
    {"Message-ID", "<reply-2@example.org>"},
    {"References", "<thread-1@example.com>\n\t<" .. KEY .. ">"},
})
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_CONTINUE)
check(not mt.eom_check(conn, MT_RCPTDELETE, "<" .. DEDICATED .. ">"),
      "the dedicated recipient was removed although References has its key")
check(mt.eom_check(conn, MT_HDRADD, "X-Replygate-TLS", tls_header("TLSv1.3")),
      "X-Replygate-TLS not added")
mt.disconnect(conn)
