-- ratelimit.lua - run.sh's rate-limit milter: rate_limit_per_key = 5,
-- rate_limit_per_sender = 8. Ten messages to one key: five pass (one of
-- them authres-keep.lua's, from another sender, run just before), five get
-- 450 4.7.1 (and do not count); four more from bob to another address pass
-- (bob's eighth), the next is refused by the sender's limit; another sender
-- still passes.
-- log: NOQUEUE: reject: RCPT from mail.example.org[192.0.2.10]: 450 4.7.1 <@KEY@>: Recipient address rejected: too many messages for this reply key (5 an hour), try again later; from=<bob@example.org> to=<@KEY@>
-- log: NOQUEUE: reject: RCPT from mail.example.org[192.0.2.10]: 450 4.7.1 <bob@example.org>: Sender address rejected: too many messages from this sender (8 an hour), try again later; from=<bob@example.org> to=<support@reply.example.com>
dofile(os.getenv("MT_LIB"))

-- one - a whole message from sender to address, its RCPT answered want
local function one(sender, address, want)
    local conn = session("TLSv1.3", sender)
    rcpt(conn, address, want)
    -- a second recipient with the same key counts once
    if want == SMFIR_CONTINUE then
        rcpt(conn, string.upper(address), SMFIR_CONTINUE)
        person_headers(conn)
        eoh(conn, SMFIR_CONTINUE)
        eom(conn, SMFIR_CONTINUE)
    end
    mt.disconnect(conn)
end

for i = 1, 4 do one("<bob@example.org>", KEY, SMFIR_CONTINUE) end
for i = 1, 5 do one("<bob@example.org>", KEY, SMFIR_REPLYCODE) end
for i = 1, 4 do one("<BOB@example.org>", STATIC, SMFIR_CONTINUE) end
one("<bob@example.org>", STATIC, SMFIR_REPLYCODE)
one("<carol@example.org>", STATIC, SMFIR_CONTINUE)
