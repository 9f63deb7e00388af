-- foreign.lua - mail only for other domains is never touched: no TLS demanded,
-- auto-submitted mail passes, forged headers stay, nothing is added.
-- nolog
dofile(os.getenv("MT_LIB"))
local conn = session(nil, "<>")
rcpt(conn, "alice@example.net", SMFIR_CONTINUE)
rcpt(conn, "reply+i-1-5@example.com", SMFIR_CONTINUE)
headers(conn, {{"From", "MAILER-DAEMON@example.org"}, {"Auto-Submitted", "auto-replied"},
               {"X-Replygate-TLS", "version=TLSv1.3; forged"}})
-- Nothing of ours: the milter steps aside for the rest of the message.
eoh(conn, SMFIR_ACCEPT)
mt.disconnect(conn)
