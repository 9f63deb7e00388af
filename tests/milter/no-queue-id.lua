-- no-queue-id.lua - without the queue id macro {i} at the end of the message the
-- milter cannot sign the trace header for the agent's -q queue id: it adds none
-- (the reply is then stored without TLS data), still deletes the forged one,
-- and says why in a warning.
-- log: warning: NOQUEUE: no usable queue id macro {i} at end of message: adding no X-Replygate-TLS header
dofile(os.getenv("MT_LIB"))
local conn = mt.connect(SOCKET, 40, 0.25)
check(conn ~= nil, "mt.connect(" .. tostring(SOCKET) .. ") failed")
check(mt.conninfo(conn, CLIENT_HOST, CLIENT_ADDR) == nil, "mt.conninfo failed")
expect(conn, SMFIR_CONTINUE, "connect")
mt.macro(conn, SMFIC_HELO, "{tls_version}", "TLSv1.3", "{cipher}", TLS_CIPHER,
         "{cipher_bits}", TLS_BITS)
check(mt.helo(conn, CLIENT_HOST) == nil, "mt.helo failed")
check(mt.mailfrom(conn, "<bob@example.org>") == nil, "mt.mailfrom failed")
expect(conn, SMFIR_CONTINUE, "MAIL FROM")
rcpt(conn, KEY, SMFIR_CONTINUE)
person_headers(conn, {{"X-Replygate-TLS", "version=TLSv1.3; cipher=FORGED; bits=256"}})
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_CONTINUE)
check(mt.eom_check(conn, MT_HDRDELETE, "X-Replygate-TLS"), "forged X-Replygate-TLS not deleted")
check(not mt.eom_check(conn, MT_HDRADD, "X-Replygate-TLS"),
      "X-Replygate-TLS added without a queue id: " ..
      tostring(mt.getheader(conn, "X-Replygate-TLS", 0)))
mt.disconnect(conn)
