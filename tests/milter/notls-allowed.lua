-- notls-allowed.lua - with require_tls = no, plain text is accepted, forged
-- headers still go, and no X-Replygate-TLS is added (its absence means no TLS).
-- log: 4F2A21041E3: strip: END-OF-MESSAGE from mail.example.org[192.0.2.10]: 1 inbound X-Replygate-* header(s) removed
dofile(os.getenv("MT_LIB"))
local conn = session(nil)
rcpt(conn, KEY, SMFIR_CONTINUE)
person_headers(conn, {{"X-Replygate-TLS", "version=TLSv1.3; cipher=FORGED; bits=256"}})
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_CONTINUE)
check(mt.eom_check(conn, MT_HDRDELETE, "X-Replygate-TLS"), "forged X-Replygate-TLS not deleted")
check(not mt.eom_check(conn, MT_HDRADD, "X-Replygate-TLS"), "X-Replygate-TLS added without TLS")
mt.disconnect(conn)
