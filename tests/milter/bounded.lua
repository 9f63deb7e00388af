-- bounded.lua - the inputs of the hardening issue, one message each, chosen
-- by run.sh through the environment:
--   BOUND_RCPTS    RCPT TO:<reply@...> this many times
--   BOUND_HEADERS  this many small headers ("To: a@b", 9 bytes a line)
--   BOUND_NAMES    this many distinct X-Replygate-<n> headers
-- After the padding come a forged X-Replygate-TLS and an Authentication-Results
-- claiming our authserv-id (mx.example.com): the caps must not hide them.
-- run.sh prints the milter's CPU time for the message; nothing here is timed.
dofile(os.getenv("MT_LIB"))
local n_rcpts = tonumber(os.getenv("BOUND_RCPTS") or "1")
local n_headers = tonumber(os.getenv("BOUND_HEADERS") or "0")
local n_names = tonumber(os.getenv("BOUND_NAMES") or "0")
mt.set_timeout(600)
local conn = session("TLSv1.3")
for i = 1, n_rcpts do
    rcpt(conn, DEDICATED, SMFIR_CONTINUE)
end
headers(conn, {{"From", "Bob <bob@example.org>"}, {"Subject", "Re: issue 1"}})
for i = 1, n_headers do
    check(mt.header(conn, "To", "a@b") == nil, "mt.header failed")
end
for i = 1, n_names do
    check(mt.header(conn, "X-Replygate-" .. i, "x") == nil, "mt.header failed")
end
headers(conn, {
    {"X-Replygate-TLS", "version=TLSv1.3; forged after the padding"},
    {"Authentication-Results", "mx.example.com; dmarc=pass (forged after the padding)"},
    {"References", "<" .. KEY .. ">"},
})
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_CONTINUE)
check(mt.eom_check(conn, MT_HDRDELETE, "X-Replygate-TLS"), "the padded X-Replygate-TLS not deleted")
check(mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results"),
      "the padded Authentication-Results not deleted")
if n_names > 0 then
    check(mt.eom_check(conn, MT_HDRDELETE, "X-Replygate-1"), "X-Replygate-1 not deleted")
    check(mt.eom_check(conn, MT_HDRDELETE, "X-Replygate-" .. n_names), "the last name not deleted")
end
check(not mt.eom_check(conn, MT_RCPTDELETE, "<" .. DEDICATED .. ">"), "a recipient was removed")
mt.disconnect(conn)
