-- key-malformed.lua - other local parts in a reply domain get 550 5.1.1 too.
-- log: NOQUEUE: reject: RCPT from mail.example.org[192.0.2.10]: 550 5.1.1 <reply+i-01-0cfb86214a3bd7e0383f14686e5be0864304ab35-5@reply.example.com>: Recipient address rejected: unknown or expired reply address; from=<bob@example.org> to=<reply+i-01-0cfb86214a3bd7e0383f14686e5be0864304ab35-5@reply.example.com>
-- log: NOQUEUE: reject: RCPT from mail.example.org[192.0.2.10]: 550 5.1.1 <someone@reply.example.com>: Recipient address rejected: unknown or expired reply address; from=<bob@example.org> to=<someone@reply.example.com>
-- log: NOQUEUE: reject: RCPT from mail.example.org[192.0.2.10]: 550 5.1.1 <reply+i-1-5@reply.example.com>: Recipient address rejected: unknown or expired reply address; from=<bob@example.org> to=<reply+i-1-5@reply.example.com>
-- log: 550 5.1.1 <reply+i-1-5%x\r\n@reply.example.com>: Recipient
dofile(os.getenv("MT_LIB"))
local conn = session("TLSv1.3")
rcpt(conn, "reply+i-01-0cfb86214a3bd7e0383f14686e5be0864304ab35-5@reply.example.com",
     SMFIR_REPLYCODE)
rcpt(conn, "someone@reply.example.com", SMFIR_REPLYCODE)
rcpt(conn, "reply+i-1-5@reply.example.com", SMFIR_REPLYCODE)
-- Hostile text in the address is escaped in the log and cannot break the reply.
rcpt(conn, "reply+i-1-5%x\r\n@reply.example.com", SMFIR_REPLYCODE)
mt.disconnect(conn)
