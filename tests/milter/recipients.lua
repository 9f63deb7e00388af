-- recipients.lua - recipients of ours are bounded: a repeated one is folded
-- (accepted, kept once), and past 20 distinct ones each further one gets
-- 452 4.5.3 (the client sends them again in another transaction); a
-- recipient in another domain is never counted.
-- log: NOQUEUE: reject: RCPT from mail.example.org[192.0.2.10]: 452 4.5.3 Too many recipients in the reply domains for one message; from=<bob@example.org> to=<
dofile(os.getenv("MT_LIB"))
local conn = session("TLSv1.3")
for i = 1, 1000 do
    rcpt(conn, DEDICATED, SMFIR_CONTINUE)
end
rcpt(conn, KEY, SMFIR_CONTINUE)
rcpt(conn, KEY, SMFIR_CONTINUE)
-- 18 more distinct ones: the dedicated address in other letter cases
local local_part = "reply"
local n = 2
local mask = 1
while n < 20 do
    local variant = ""
    for j = 1, #local_part do
        local c = string.sub(local_part, j, j)
        if math.floor(mask / 2 ^ (j - 1)) % 2 == 1 then c = string.upper(c) end
        variant = variant .. c
    end
    rcpt(conn, variant .. "@reply.example.com", SMFIR_CONTINUE)
    n = n + 1
    mask = mask + 1
end
rcpt(conn, "alice@example.net", SMFIR_CONTINUE)
rcpt(conn, "REPLY@reply.example.com", SMFIR_REPLYCODE)
rcpt(conn, STATIC, SMFIR_REPLYCODE)
rcpt(conn, "bob@example.net", SMFIR_CONTINUE)
rcpt(conn, KEY, SMFIR_CONTINUE)
person_headers(conn, {{"References", "<" .. KEY .. ">"}})
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_CONTINUE)
check(mt.eom_check(conn, MT_HDRADD, "X-Replygate-TLS"), "no trace header")
mt.disconnect(conn)
