-- key-unique.lua - the unique Message-ID form of a notification (SPEC section
-- 3 item 9: the key's local part, '.', a unique suffix) is the same key: a
-- RCPT to it is accepted over TLS and kept, in any case; a bad suffix or a
-- tampered mac with a suffix is refused with 550 5.1.1.
-- log: reject: RCPT from mail.example.org[192.0.2.10]: 550 5.1.1 <@KEY_UNIQUE_BAD@>: Recipient address rejected: unknown or expired reply address
dofile(os.getenv("MT_LIB"))
local unique = os.getenv("KEY_UNIQUE")
local bad = os.getenv("KEY_UNIQUE_BAD")
check(unique ~= nil and bad ~= nil, "KEY_UNIQUE and KEY_UNIQUE_BAD are not set by run.sh")
local conn = session("TLSv1.3")
rcpt(conn, unique, SMFIR_CONTINUE)
rcpt(conn, string.upper(unique), SMFIR_CONTINUE)
rcpt(conn, bad, SMFIR_REPLYCODE)
person_headers(conn)
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_CONTINUE)
check(not mt.eom_check(conn, MT_RCPTDELETE, "<" .. unique .. ">"), "the recipient was deleted")
mt.disconnect(conn)
local plain = session(nil)
rcpt(plain, unique, SMFIR_REPLYCODE)
mt.disconnect(plain)
