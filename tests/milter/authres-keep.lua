-- authres-keep.lua - with milter_remove_authentication_results = no (a
-- verifier such as OpenDKIM comes first and removes forged copies itself),
-- the milter deletes no Authentication-Results header, not even one claiming
-- authserv_id, since it may be that verifier's own.
-- nolog
dofile(os.getenv("MT_LIB"))
local conn = session("TLSv1.3", "<dave@example.org>") -- not ratelimit.lua's bob
rcpt(conn, KEY, SMFIR_CONTINUE)
person_headers(conn, {{"Authentication-Results", "mx.example.com; dkim=pass"}})
eoh(conn, SMFIR_CONTINUE)
eom(conn, SMFIR_CONTINUE)
check(not mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results"),
      "Authentication-Results deleted with milter_remove_authentication_results = no")
mt.disconnect(conn)
