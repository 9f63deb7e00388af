-- forged-header.lua - every inbound X-Replygate-* header is deleted, then the real one added.
-- log: 4F2A21041E3: strip: END-OF-MESSAGE from mail.example.org[192.0.2.10]: 4 inbound X-Replygate-* header(s) removed
dofile(os.getenv("MT_LIB"))
local conn = session("TLSv1.2")
rcpt(conn, KEY, SMFIR_CONTINUE)
person_headers(conn, {
    {"X-Replygate-TLS", "version=TLSv1.3; cipher=FORGED; bits=9999"},
    {"Received", "from x by y"},
    {"x-replygate-tls", "version=TLSv1.3; cipher=FORGED-AGAIN"},
    {"X-Replygate-Key", "i-1-5"},
    {"X-REPLYGATE-TLS", "third"},
    {"X-Replygate", "not ours: no dash suffix"},
})
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_CONTINUE)
check(mt.eom_check(conn, MT_HDRDELETE, "X-Replygate-TLS"), "forged X-Replygate-TLS not deleted")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Replygate-Key"), "forged X-Replygate-Key not deleted")
check(not mt.eom_check(conn, MT_HDRDELETE, "X-Replygate"), "X-Replygate (not ours) was deleted")
check(not mt.eom_check(conn, MT_HDRDELETE, "Received"), "Received was deleted")
check(mt.eom_check(conn, MT_HDRADD, "X-Replygate-TLS", tls_header("TLSv1.2")),
      "the real X-Replygate-TLS not added")
mt.disconnect(conn)
