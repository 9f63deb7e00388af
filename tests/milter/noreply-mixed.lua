-- noreply-mixed.lua - the no-reply recipient is removed, the other one keeps the message.
-- log: 4F2A21041E3: discard: END-OF-MESSAGE from mail.example.org[192.0.2.10]: no-reply recipient removed; from=<bob@example.org> to=<@NOREPLY@>
dofile(os.getenv("MT_LIB"))
local conn = session("TLSv1.3")
rcpt(conn, NOREPLY, SMFIR_CONTINUE)
rcpt(conn, KEY, SMFIR_CONTINUE)
person_headers(conn)
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_CONTINUE)
check(mt.eom_check(conn, MT_RCPTDELETE, "<" .. NOREPLY .. ">"), "the no-reply recipient stayed")
check(not mt.eom_check(conn, MT_RCPTDELETE, "<" .. KEY .. ">"), "the key recipient was removed")
check(mt.eom_check(conn, MT_HDRADD, "X-Replygate-TLS", tls_header("TLSv1.3")),
      "X-Replygate-TLS not added")
mt.disconnect(conn)
