-- mutations.lua - every one-character change of the valid key's local part, with
-- several replacement characters each, is refused with 550 5.1.1 (a change of
-- letter case alone is the same address and is skipped). The domain is left
-- alone: another domain is a foreign recipient, accepted untouched.
dofile(os.getenv("MT_LIB"))
local at = string.find(KEY, "@", 1, true)
local localpart, domain = string.sub(KEY, 1, at - 1), string.sub(KEY, at)
local replacements = {"0", "1", "7", "9", "a", "f", "g", "z", "-", "+", ".", "_", "%", " "}
local conn = session("TLSv1.3")
local tried = 0
for i = 1, #localpart do
    local old = string.sub(localpart, i, i)
    for _, new in ipairs(replacements) do
        if string.lower(new) ~= string.lower(old) then
            local changed = string.sub(localpart, 1, i - 1) .. new .. string.sub(localpart, i + 1)
            rcpt(conn, changed .. domain, SMFIR_REPLYCODE)
            tried = tried + 1
        end
    end
    -- Deleting the character, too.
    rcpt(conn, string.sub(localpart, 1, i - 1) .. string.sub(localpart, i + 1) .. domain,
         SMFIR_REPLYCODE)
    tried = tried + 1
end
-- The original still passes at the end of the same transaction.
rcpt(conn, KEY, SMFIR_CONTINUE)
mt.echo("refused " .. tried .. " changed addresses")
mt.disconnect(conn)
