-- nonsmtp.lua - a non-SMTP submission (sendmail(1) through non_smtpd_milters):
-- cleanup(8) sends no {rcpt_mailer} nor {rcpt_host}, and cannot refuse a
-- recipient (it would loop in maildrop). Nothing is refused, not even a
-- tampered key without TLS or an auto-submitted message; forged headers go;
-- no trace header is added. The delivery agent judges it.
-- log: 4F2A21041E3: pass: END-OF-MESSAGE from localhost[127.0.0.1]: non-SMTP submission: nothing may be refused here, the delivery agent judges it; from=<root@localhost> to=<@KEY_TAMPERED@>
-- log: 4F2A21041E3: strip: END-OF-MESSAGE from localhost[127.0.0.1]: 1 inbound X-Replygate-* header(s) removed
dofile(os.getenv("MT_LIB"))
local conn = mt.connect(SOCKET, 40, 0.25)
check(conn ~= nil, "mt.connect failed")
check(mt.conninfo(conn, "localhost", "127.0.0.1") == nil, "mt.conninfo failed")
check(mt.helo(conn, "localhost") == nil, "mt.helo failed")
mt.macro(conn, SMFIC_MAIL, "i", QUEUE_ID)
check(mt.mailfrom(conn, "<root@localhost>") == nil, "mt.mailfrom failed")
rcpt_local(conn, KEY_TAMPERED, SMFIR_CONTINUE)
rcpt_local(conn, DEDICATED, SMFIR_CONTINUE)
rcpt_local(conn, NOREPLY, SMFIR_CONTINUE)
headers(conn, {
    {"From", "root@localhost"},
    {"To", DEDICATED},
    {"Subject", "cron"},
    {"Auto-Submitted", "auto-generated"},
    {"X-Replygate-TLS", "version=TLSv1.3; forged"},
})
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_CONTINUE)
check(mt.eom_check(conn, MT_HDRDELETE, "X-Replygate-TLS"), "forged X-Replygate-TLS not deleted")
check(not mt.eom_check(conn, MT_HDRADD, "X-Replygate-TLS"), "a trace header was added")
check(not mt.eom_check(conn, MT_RCPTDELETE, "<" .. NOREPLY .. ">"), "a recipient was removed")
mt.disconnect(conn)
