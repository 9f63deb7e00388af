-- autosubmit-shared.lua - on a shared MX, an auto-submitted message that also
-- goes to another domain is not refused (that would refuse alice too): only
-- our recipients are removed at the end of the message, and alice gets it.
-- log: 4F2A21041E3: discard: END-OF-MESSAGE from mail.example.org[192.0.2.10]: recipient removed: auto-submitted message (Auto-Submitted: auto-replied); from=<bob@example.org> to=<@KEY@>
-- log: 4F2A21041E3: discard: END-OF-MESSAGE from mail.example.org[192.0.2.10]: recipient removed: auto-submitted message (Auto-Submitted: auto-replied); from=<bob@example.org> to=<reply@reply.example.com>
dofile(os.getenv("MT_LIB"))
local conn = session("TLSv1.3")
rcpt(conn, KEY, SMFIR_CONTINUE)
rcpt(conn, "alice@example.net", SMFIR_CONTINUE)
rcpt(conn, DEDICATED, SMFIR_CONTINUE)
person_headers(conn, {{"Auto-Submitted", "auto-replied"}})
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_CONTINUE)
check(mt.eom_check(conn, MT_RCPTDELETE, "<" .. KEY .. ">"), "our keyed recipient not removed")
check(mt.eom_check(conn, MT_RCPTDELETE, "<" .. DEDICATED .. ">"), "our dedicated recipient not removed")
check(not mt.eom_check(conn, MT_RCPTDELETE, "<alice@example.net>"), "alice was removed")
check(not mt.eom_check(conn, MT_HDRADD, "X-Replygate-TLS"), "a trace header added to mail not ours")
mt.disconnect(conn)

-- The same with auto_submitted_action = discard would discard alice's copy
-- too: it removes ours instead. And a person's message to both goes on.
conn = session("TLSv1.3")
rcpt(conn, KEY, SMFIR_CONTINUE)
rcpt(conn, "alice@example.net", SMFIR_CONTINUE)
person_headers(conn)
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_CONTINUE)
check(not mt.eom_check(conn, MT_RCPTDELETE, "<" .. KEY .. ">"), "a person's reply lost its recipient")
mt.disconnect(conn)
