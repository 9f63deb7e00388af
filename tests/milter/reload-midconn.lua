-- reload-midconn.lua - a SIGHUP in the middle of a transaction drops nothing:
-- the open connection goes on with the snapshot it started with.
-- log: configuration reloaded from
dofile(os.getenv("MT_LIB"))
local conn = session("TLSv1.3")
rcpt(conn, KEY, SMFIR_CONTINUE)
check(os.execute("kill -HUP " .. os.getenv("MILTER_PID")), "kill -HUP failed")
mt.sleep(0.5)
rcpt(conn, STATIC, SMFIR_CONTINUE)
person_headers(conn)
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_CONTINUE)
check(mt.eom_check(conn, MT_HDRADD, "X-Replygate-TLS", tls_header("TLSv1.3")),
      "X-Replygate-TLS not added after the reload")
mt.disconnect(conn)
-- A new connection after the reload works too.
conn = session("TLSv1.3")
rcpt(conn, KEY, SMFIR_CONTINUE)
mt.disconnect(conn)
