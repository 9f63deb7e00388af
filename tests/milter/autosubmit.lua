-- autosubmit.lua - one auto-submitted rule, chosen by run.sh through the environment:
--   AS_NAME, AS_VALUE  a header to add (AS_NAME empty: none)
--   AS_SENDER          the envelope sender
--   AS_WANT            reject, discard or pass
-- run.sh checks the mail.log line for the reason.
dofile(os.getenv("MT_LIB"))
local name = os.getenv("AS_NAME") or ""
local value = os.getenv("AS_VALUE") or ""
local want = os.getenv("AS_WANT")
local conn = session("TLSv1.3", os.getenv("AS_SENDER"))
rcpt(conn, KEY, SMFIR_CONTINUE)
local extra = {}
if name ~= "" then extra = {{name, value}} end
person_headers(conn, extra)
if want == "reject" then
    eoh(conn, SMFIR_REPLYCODE)
elseif want == "discard" then
    eoh(conn, SMFIR_DISCARD)
else
    eoh(conn, SMFIR_CONTINUE)
    eom(conn, SMFIR_CONTINUE)
end
mt.disconnect(conn)
