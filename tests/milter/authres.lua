-- authres.lua - every inbound Authentication-Results header claiming our
-- authserv-id (mx.example.com in run.sh's configuration) is deleted, wherever
-- it stands and however many there are; another host's are left alone.
-- log: 4F2A21041E3: strip: END-OF-MESSAGE from mail.example.org[192.0.2.10]: 4 inbound Authentication-Results header(s) claiming mx.example.com removed: only our verifiers write them
dofile(os.getenv("MT_LIB"))
local conn = session("TLSv1.3")
rcpt(conn, KEY, SMFIR_CONTINUE)
headers(conn, {
    {"Authentication-Results", "mx.example.com; dmarc=pass header.from=example.org"},
    {"Received", "from a by b"},
})
person_headers(conn, {
    {"Authentication-Results", "other.example.net; dkim=pass header.d=example.org"},
    {"authentication-results", "(comment) MX.EXAMPLE.COM 1; spf=pass"},
    {"Authentication-Results", "\"mx.example.com\"; dkim=pass"},
    {"Authentication-Results", "mx.example.com.evil.example; dkim=pass"},
    {"Authentication-Results", "mx.example.com; none"},
})
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_CONTINUE)
check(mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results"), "forged ones not deleted")
mt.disconnect(conn)

-- Only other hosts' headers: nothing deleted.
conn = session("TLSv1.3")
rcpt(conn, KEY, SMFIR_CONTINUE)
person_headers(conn, {
    {"Authentication-Results", "other.example.net; dkim=pass header.d=example.org"},
    {"Authentication-Results", "mx.example.com.evil.example; dkim=pass"},
})
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_CONTINUE)
check(not mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results"),
      "another host's Authentication-Results deleted")
mt.disconnect(conn)
