-- dedicated-mixed.lua - the bare dedicated address without a key beside another
-- recipient (a valid key, then a foreign one): only it is removed at end of
-- message, and the message goes on to the others.
-- log: 4F2A21041E3: discard: END-OF-MESSAGE from mail.example.org[192.0.2.10]: recipient removed: no reply key in the message; from=<bob@example.org> to=<reply@reply.example.com>
dofile(os.getenv("MT_LIB"))
local others = {KEY, "alice@example.net"}
for _, other in ipairs(others) do
    local conn = session("TLSv1.3")
    rcpt(conn, DEDICATED, SMFIR_CONTINUE)
    rcpt(conn, other, SMFIR_CONTINUE)
    headers(conn, {
        {"From", "Bob <bob@example.org>"},
        {"To", DEDICATED},
        {"Subject", "Re: something"},
        {"Message-ID", "<reply-4@example.org>"},
    })
    eoh(conn, SMFIR_CONTINUE)
    eom(conn, SMFIR_CONTINUE)
    check(mt.eom_check(conn, MT_RCPTDELETE, "<" .. DEDICATED .. ">"),
          "beside " .. other .. ": the keyless dedicated recipient stayed")
    check(not mt.eom_check(conn, MT_RCPTDELETE, "<" .. other .. ">"),
          "beside " .. other .. ": the other recipient was removed")
    check(mt.eom_check(conn, MT_HDRADD, "X-Replygate-TLS", tls_header("TLSv1.3")),
          "beside " .. other .. ": X-Replygate-TLS not added")
    mt.disconnect(conn)
end
