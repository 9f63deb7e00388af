-- storm.lua - many transactions in a row, while run.sh sends SIGHUP after SIGHUP
-- from outside: every answer stays right and no connection is dropped.
-- run.sh checks its exit status only (it runs beside other clients).
dofile(os.getenv("MT_LIB"))
for i = 1, tonumber(os.getenv("STORM_ROUNDS") or "20") do
    local conn = session("TLSv1.3")
    rcpt(conn, KEY, SMFIR_CONTINUE)
    rcpt(conn, KEY_TAMPERED, SMFIR_REPLYCODE)
    person_headers(conn, {{"X-Replygate-TLS", "forged " .. i}})
    eoh(conn, SMFIR_CONTINUE)
    eom(conn, SMFIR_CONTINUE)
    check(mt.eom_check(conn, MT_HDRDELETE, "X-Replygate-TLS"), "round " .. i .. ": not deleted")
    check(mt.eom_check(conn, MT_HDRADD, "X-Replygate-TLS", tls_header("TLSv1.3")),
          "round " .. i .. ": not added")
    mt.disconnect(conn)
end
