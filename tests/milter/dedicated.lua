-- dedicated.lua - the bare dedicated address (key in References) is accepted, any case.
-- nolog
dofile(os.getenv("MT_LIB"))
local conn = session("TLSv1.3")
rcpt(conn, DEDICATED, SMFIR_CONTINUE)
rcpt(conn, string.upper(DEDICATED), SMFIR_CONTINUE)
person_headers(conn, {{"References", "<" .. KEY .. ">"}})
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_CONTINUE)
check(mt.eom_check(conn, MT_HDRADD, "X-Replygate-TLS", tls_header("TLSv1.3")),
      "X-Replygate-TLS not added")
mt.disconnect(conn)
