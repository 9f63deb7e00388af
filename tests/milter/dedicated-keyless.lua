-- dedicated-keyless.lua - mail only to the bare dedicated address, with no key
-- anywhere (a tampered one in References does not count), is refused with
-- 550 5.1.1 after the headers: the agent would refuse it, and Postfix would
-- bounce that to a sender who may be forged.
-- log: 4F2A21041E3: reject: END-OF-MESSAGE from mail.example.org[192.0.2.10]: 550 5.1.1 <reply@reply.example.com>: Recipient address rejected: no reply key in the message; from=<bob@example.org> to=<reply@reply.example.com>
dofile(os.getenv("MT_LIB"))
local conn = session("TLSv1.3")
rcpt(conn, DEDICATED, SMFIR_CONTINUE)
headers(conn, {
    {"From", "Bob <bob@example.org>"},
    {"To", DEDICATED},
    {"Subject", "Re: something"},
    {"Message-ID", "<reply-3@example.org>"},
    {"In-Reply-To", "<thread-1@example.com>"},
    {"References", "<thread-1@example.com> <" .. KEY_TAMPERED .. ">"},
})
eoh(conn, SMFIR_REPLYCODE)
mt.disconnect(conn)
