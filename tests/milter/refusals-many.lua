-- refusals-many.lua - REFUSALS_N refusals at RCPT in one session, each
-- answered at once whatever the database does.
dofile(os.getenv("MT_LIB"))
local conn = session("TLSv1.3")
for i = 1, tonumber(os.getenv("REFUSALS_N")) do
    rcpt(conn, KEY_TAMPERED, SMFIR_REPLYCODE)
end
mt.disconnect(conn)
