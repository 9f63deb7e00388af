-- lib.lua - helpers shared by the replygate-milter miltertest scripts.
--
-- run.sh starts the milter and passes everything through the environment:
--   MILTER_SOCKET  the socket, "unix:/tmp/.../milter.sock"
--   KEY_ADDR       a valid signed address, KEY_TAMPERED the same with its mac changed
--   DEDICATED, STATIC, NOREPLY, MILTER_PID
-- Each script runs dofile(os.getenv("MT_LIB")) first and fails with error(),
-- which makes miltertest exit non-zero; the message says what was got and wanted.

SOCKET = os.getenv("MILTER_SOCKET")
KEY = os.getenv("KEY_ADDR")
KEY_TAMPERED = os.getenv("KEY_TAMPERED")
DEDICATED = os.getenv("DEDICATED")
STATIC = os.getenv("STATIC")
NOREPLY = os.getenv("NOREPLY")
CLIENT_HOST = "mail.example.org"
CLIENT_ADDR = "192.0.2.10"
QUEUE_ID = "4F2A21041E3"
TLS_CIPHER = "TLS_AES_256_GCM_SHA384"
TLS_BITS = "256"

local reply_names = {
    [SMFIR_CONTINUE] = "continue", [SMFIR_REPLYCODE] = "replycode (a reject with our text)",
    [SMFIR_ACCEPT] = "accept", [SMFIR_DISCARD] = "discard", [SMFIR_REJECT] = "reject",
    [SMFIR_TEMPFAIL] = "tempfail",
}

-- reply_name - a word for a milter reply code
function reply_name(code)
    return reply_names[code] or tostring(code)
end

-- fail - miltertest prints no Lua error, so say it on standard error first
function fail(what, level)
    io.stderr:write("script failed: " .. what .. "\n")
    error(what, level + 1)
end

-- check - fail the script with what when cond is false
function check(cond, what)
    if not cond then fail(what, 2) end
end

-- expect - the last reply must be want
function expect(conn, want, what)
    local got = mt.getreply(conn)
    if got ~= want then
        fail(string.format("%s: got %s, want %s", what, reply_name(got), reply_name(want)), 2)
    end
end

-- session - connect, HELO (with TLS macros when tls_version is given), MAIL FROM
function session(tls_version, sender)
    local conn = mt.connect(SOCKET, 40, 0.25)
    check(conn ~= nil, "mt.connect(" .. tostring(SOCKET) .. ") failed")
    check(mt.conninfo(conn, CLIENT_HOST, CLIENT_ADDR) == nil, "mt.conninfo failed")
    expect(conn, SMFIR_CONTINUE, "connect")
    if tls_version ~= nil then
        mt.macro(conn, SMFIC_HELO, "{tls_version}", tls_version, "{cipher}", TLS_CIPHER,
                 "{cipher_bits}", TLS_BITS)
    end
    check(mt.helo(conn, CLIENT_HOST) == nil, "mt.helo failed")
    mt.macro(conn, SMFIC_MAIL, "i", QUEUE_ID)
    check(mt.mailfrom(conn, sender or "<bob@example.org>") == nil, "mt.mailfrom failed")
    expect(conn, SMFIR_CONTINUE, "MAIL FROM")
    return conn
end

-- rcpt - RCPT TO:<address>, wanting the reply want. Like smtpd(8), it sends
-- the routing macros {rcpt_mailer} and {rcpt_host} with it: without them the
-- milter takes the transaction for a non-SMTP submission (see rcpt_local).
function rcpt(conn, address, want)
    local domain = string.match(address, "@([^@]*)$") or ""
    mt.macro(conn, SMFIC_RCPT, "{rcpt_mailer}", "replygate", "{rcpt_host}", domain)
    check(mt.rcptto(conn, "<" .. address .. ">") == nil, "mt.rcptto failed")
    expect(conn, want, "RCPT TO:<" .. address .. ">")
end

-- rcpt_local - RCPT TO:<address> as cleanup(8) sends it for sendmail(1) mail
-- through non_smtpd_milters: no routing macros
function rcpt_local(conn, address, want)
    check(mt.rcptto(conn, "<" .. address .. ">") == nil, "mt.rcptto failed")
    expect(conn, want, "RCPT TO:<" .. address .. "> (non-SMTP)")
end

-- headers - send header fields, a list of {name, value}; the milter answers none
-- of them when it negotiated SMFIP_NR_HDR, so only sending is checked
function headers(conn, list)
    for _, h in ipairs(list) do
        check(mt.header(conn, h[1], h[2]) == nil, "mt.header(" .. h[1] .. ") failed")
    end
end

-- person_headers - the headers of an ordinary reply
function person_headers(conn, extra)
    local list = {
        {"From", "Bob <bob@example.org>"},
        {"To", KEY},
        {"Subject", "Re: issue 1"},
        {"Message-ID", "<reply-1@example.org>"},
    }
    for _, h in ipairs(extra or {}) do table.insert(list, h) end
    headers(conn, list)
end

-- eoh - end of headers, wanting the reply want
function eoh(conn, want)
    check(mt.eoh(conn) == nil, "mt.eoh failed")
    expect(conn, want, "end of headers")
end

-- eom - end of message, wanting the reply want
function eom(conn, want)
    check(mt.eom(conn) == nil, "mt.eom failed")
    expect(conn, want, "end of message")
end

-- tls_header - the signed X-Replygate-TLS value the milter must add for
-- tls_version (TLSv1.2 or TLSv1.3) and QUEUE_ID: run.sh computes it with
-- `openssl dgst -sha256 -hmac` and the signing secret, as TLS_HEADER_TLSv1_3
function tls_header(tls_version)
    local name = "TLS_HEADER_" .. (string.gsub(tls_version, "%.", "_"))
    local value = os.getenv(name)
    check(value ~= nil, name .. " is not set by run.sh")
    return value
end
