-- dedicated-unique-references.lua - the bare dedicated address whose key is
-- only in References, written in the unique Message-ID form of a
-- notification inside one quoted string (as Exchange and iOS write
-- References), is accepted and kept: the agent's own lookup finds the key.
-- nolog
dofile(os.getenv("MT_LIB"))
local unique = os.getenv("KEY_UNIQUE")
check(unique ~= nil, "KEY_UNIQUE is not set by run.sh")
local conn = session("TLSv1.3")
rcpt(conn, DEDICATED, SMFIR_CONTINUE)
headers(conn, {
    {"From", "Bob <bob@example.org>"},
    {"To", DEDICATED},
    {"Subject", "Re: issue 1"},
    {"Message-ID", "<reply-4@example.org>"},
    {"In-Reply-To", "<thread-9@example.com>"},
    {"References", "\"<thread-1@example.com>,<" .. unique .. ">,<thread-9@example.com>\""},
})
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_CONTINUE)
check(not mt.eom_check(conn, MT_RCPTDELETE, "<" .. DEDICATED .. ">"),
      "the dedicated recipient was removed although References has its key")
mt.disconnect(conn)
