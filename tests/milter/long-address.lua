-- long-address.lua - an address of about 1000 bytes still gets 550 5.1.1, not a
-- tempfail: the reply quotes it cut to 256 bytes (libmilter refuses longer texts).
-- log: NOQUEUE: reject: RCPT from mail.example.org[192.0.2.10]: 550 5.1.1 <reply+bbbbbbbbbb
dofile(os.getenv("MT_LIB"))
local conn = session("TLSv1.3")
rcpt(conn, "reply+" .. string.rep("b", 900) .. "@reply.example.com", SMFIR_REPLYCODE)
rcpt(conn, string.rep("a%", 300) .. "@reply.example.com", SMFIR_REPLYCODE)
mt.disconnect(conn)
