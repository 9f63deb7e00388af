-- static.lua - a static_address is accepted without a key.
-- nolog
dofile(os.getenv("MT_LIB"))
local conn = session("TLSv1.3")
rcpt(conn, STATIC, SMFIR_CONTINUE)
person_headers(conn)
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_CONTINUE)
check(mt.eom_check(conn, MT_HDRADD, "X-Replygate-TLS", tls_header("TLSv1.3")),
      "X-Replygate-TLS not added")
mt.disconnect(conn)
