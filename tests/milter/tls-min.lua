-- tls-min.lua - TLSv1.2 (the minimum itself) and TLSv1.3 are enough.
-- nolog
dofile(os.getenv("MT_LIB"))
for _, version in ipairs({"TLSv1.2", "TLSv1.3"}) do
    local conn = session(version)
    rcpt(conn, KEY, SMFIR_CONTINUE)
    mt.disconnect(conn)
end
