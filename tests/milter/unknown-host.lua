-- unknown-host.lua - a client without a verified name ("[addr]" from the MTA) is
-- logged as unknown[addr], the way Postfix logs it; IPv6 addresses print too.
-- log: NOQUEUE: reject: RCPT from unknown[192.0.2.11]: 530 5.7.0 Must issue a STARTTLS command first; from=<bob@example.org> to=<@KEY@>
-- log: NOQUEUE: reject: RCPT from mx.example.net[2001:db8::25]: 530 5.7.0 Must issue a STARTTLS command first
dofile(os.getenv("MT_LIB"))
CLIENT_HOST = "[192.0.2.11]"
CLIENT_ADDR = "192.0.2.11"
local conn = session(nil)
rcpt(conn, KEY, SMFIR_REPLYCODE)
mt.disconnect(conn)
CLIENT_HOST = "mx.example.net"
CLIENT_ADDR = "2001:db8::25"
conn = session(nil)
rcpt(conn, KEY, SMFIR_REPLYCODE)
mt.disconnect(conn)
