-- tls-at-mail.lua - {tls_version} sent with MAIL FROM (milter_mail_macros), not HELO.
-- nolog
dofile(os.getenv("MT_LIB"))
local conn = mt.connect(SOCKET, 40, 0.25)
check(conn ~= nil, "mt.connect failed")
check(mt.conninfo(conn, CLIENT_HOST, CLIENT_ADDR) == nil, "mt.conninfo failed")
check(mt.helo(conn, CLIENT_HOST) == nil, "mt.helo failed")
mt.macro(conn, SMFIC_MAIL, "i", QUEUE_ID, "{tls_version}", "TLSv1.3", "{cipher}", TLS_CIPHER,
         "{cipher_bits}", TLS_BITS)
check(mt.mailfrom(conn, "<bob@example.org>") == nil, "mt.mailfrom failed")
rcpt(conn, KEY, SMFIR_CONTINUE)
person_headers(conn)
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_CONTINUE)
check(mt.eom_check(conn, MT_HDRADD, "X-Replygate-TLS", tls_header("TLSv1.3")),
      "X-Replygate-TLS not added with the MAIL FROM macros")
mt.disconnect(conn)
