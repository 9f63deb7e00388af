-- tls-old.lua - TLSv1 and TLSv1.1 are older than tls_min_version = TLSv1.2: 530 5.7.0.
-- log: NOQUEUE: reject: RCPT from mail.example.org[192.0.2.10]: 530 5.7.0 Must issue a STARTTLS command first; from=<bob@example.org> to=<@KEY@>
dofile(os.getenv("MT_LIB"))
for _, version in ipairs({"TLSv1", "TLSv1.1", "SSLv3", "TLSv9"}) do
    local conn = session(version)
    rcpt(conn, KEY, SMFIR_REPLYCODE)
    mt.disconnect(conn)
end
