-- key-valid.lua - a valid key over TLS is accepted and gets the TLS trace header.
-- nolog
dofile(os.getenv("MT_LIB"))
local conn = session("TLSv1.3")
rcpt(conn, KEY, SMFIR_CONTINUE)
person_headers(conn)
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_CONTINUE)
check(mt.eom_check(conn, MT_HDRADD, "X-Replygate-TLS", tls_header("TLSv1.3")),
      "X-Replygate-TLS: " .. tls_header("TLSv1.3") .. " not added; got " ..
      tostring(mt.getheader(conn, "X-Replygate-TLS", 0)))
check(not mt.eom_check(conn, MT_HDRDELETE), "a header was deleted from a clean message")
check(not mt.eom_check(conn, MT_RCPTDELETE, "<" .. KEY .. ">"), "the recipient was deleted")
mt.disconnect(conn)
