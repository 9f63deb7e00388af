-- key-tampered.lua - a key whose mac does not verify gets 550 5.1.1.
-- log: NOQUEUE: reject: RCPT from mail.example.org[192.0.2.10]: 550 5.1.1 <@KEY_TAMPERED@>: Recipient address rejected: unknown or expired reply address; from=<bob@example.org> to=<@KEY_TAMPERED@>
dofile(os.getenv("MT_LIB"))
local conn = session("TLSv1.3")
rcpt(conn, KEY_TAMPERED, SMFIR_REPLYCODE)
-- The good key in the same transaction still passes.
rcpt(conn, KEY, SMFIR_CONTINUE)
mt.disconnect(conn)
