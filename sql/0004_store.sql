-- 0004_store.sql - the delivery programs' insert of one reply, as a function
-- whose plans the server keeps.
--
-- Applied by `replygate migrate` inside one transaction, on top of
-- 0003_auth.sql. Expand only: one new function, so an agent one version
-- behind keeps storing with its own statement while MX hosts are upgraded.
-- An agent of this version needs the function: against a database not yet
-- migrated its replies are deferred (4.3.5, SQLSTATE 42883) until
-- `replygate migrate` has run, and nothing is lost.
--
-- Why a function. The delivery programs send every statement unnamed, so
-- that they work through PgBouncer in transaction mode (replygate.conf(5)),
-- and the server then parses and plans the reply's insert, a statement of
-- 37 values with its recipient and its NOTIFY, for every reply: 0.45 ms of
-- the 1.2 ms that PostgreSQL spends on one (log_min_duration_statement,
-- 10 KB reply: parse 0.23 ms, bind with planning 0.22). PL/pgSQL keeps the
-- plans of a function's statements for the life of the server's session,
-- which PgBouncer hands from client to client without harm: the call itself
-- is the only statement parsed each time (then parse 0.05 ms, bind 0.06).
--
-- replygate.store_reply()     the row, its first recipient and the NOTIFY
-- replygate.role_grants       + the writer executes it
--
-- Changing it later. Agents call it with 40 untyped parameters, so a second
-- function of the same name (an overload, even one whose extra parameter has
-- a default) makes every call ambiguous (42725) and every agent defer. A
-- later migration either replaces it with CREATE OR REPLACE and the same
-- parameters, or adds a function of another name for the agents of its own
-- version, and drops this one a release later.

-- store_reply - insert one reply under its unique key and, when it went in,
-- record its recipient and send NOTIFY replygate_reply, '<id>' (not for a
-- test row). Returns the new row's id, or NULL when a row with the same key
-- is there already: the caller then records the recipient beside that row
-- (pipe-agent/store.c). The parameters are the columns of
-- replygate.messages in the order of its INSERT; with check true, From and
-- the envelope sender are looked up in replygate.user_addresses for the
-- key's user (from_check = record, replygate.conf(5)) instead of taken from
-- from_verified and sender_verified: check_from NULL gives false (no From
-- address to check), check_sender NULL gives NULL (no sender). The caller's
-- own privileges apply (SECURITY INVOKER).
CREATE FUNCTION replygate.store_reply(
    p_message_id text, p_message_id_hashed boolean, p_recipient text, p_queue_id text,
    p_client_address text, p_sender text, p_key_kind text, p_key_target numeric,
    p_key_user numeric, p_key_source text, p_subject text, p_from_name text,
    p_from_address text, p_date timestamptz, p_in_reply_to text, p_message_references text[],
    p_body_text text, p_reply_text text, p_quoted_text text, p_body_html text,
    p_tls_version text, p_tls_cipher text, p_tls_bits integer, p_raw_size bigint,
    p_raw_sha256 text, p_fingerprint text, p_is_test boolean, p_authserv_id text,
    p_spf text, p_dkim text, p_dkim_domain text, p_dmarc text, p_from_domain text,
    p_aligned boolean, p_from_verified boolean, p_sender_verified boolean, p_action boolean,
    p_check boolean, p_check_from text, p_check_sender text)
RETURNS bigint
LANGUAGE plpgsql SET search_path = replygate, pg_temp AS $$
DECLARE
    new_id bigint;
    v_from boolean := p_from_verified;
    v_sender boolean := p_sender_verified;
BEGIN
    IF p_check THEN
        v_from := CASE WHEN p_check_from IS NULL THEN false
                       ELSE EXISTS (SELECT 1 FROM replygate.user_addresses u
                                     WHERE u.user_id = p_key_user
                                       AND lower(u.address) = lower(p_check_from)) END;
        v_sender := CASE WHEN p_check_sender IS NULL THEN NULL
                         ELSE EXISTS (SELECT 1 FROM replygate.user_addresses u
                                       WHERE u.user_id = p_key_user
                                         AND lower(u.address) = lower(p_check_sender)) END;
    END IF;
    INSERT INTO replygate.messages AS m (message_id, message_id_hashed, queue_id,
        client_address, sender, key_kind, key_target, key_user, key_source, subject,
        from_name, from_address, date, in_reply_to, message_references, body_text,
        reply_text, quoted_text, body_html, tls_version, tls_cipher, tls_bits, raw_size,
        raw_sha256, fingerprint, is_test, authserv_id, spf, dkim, dkim_domain, dmarc,
        from_domain, aligned, from_verified, sender_verified, action)
    VALUES (p_message_id, p_message_id_hashed, p_queue_id, p_client_address, p_sender,
        p_key_kind, p_key_target, p_key_user, p_key_source, p_subject, p_from_name,
        p_from_address, p_date, p_in_reply_to, p_message_references, p_body_text,
        p_reply_text, p_quoted_text, p_body_html, p_tls_version, p_tls_cipher, p_tls_bits,
        p_raw_size, p_raw_sha256, p_fingerprint, p_is_test, p_authserv_id, p_spf, p_dkim,
        p_dkim_domain, p_dmarc, p_from_domain, p_aligned, v_from, v_sender, p_action)
    ON CONFLICT (message_id, key_kind, key_target, key_user, fingerprint) DO NOTHING
    RETURNING m.id INTO new_id;
    IF new_id IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO replygate.reply_recipients (reply_id, recipient, queue_id, client_address)
    VALUES (new_id, p_recipient, p_queue_id, p_client_address);
    IF NOT p_is_test THEN
        PERFORM pg_notify('replygate_reply', new_id::text);
    END IF;
    RETURN new_id;
END $$;

-- SPEC section 8's matrix: storing replies is the writer's. `replygate
-- migrate` runs apply_grants() after every run; calling it here too keeps a
-- migration applied by hand complete.
REVOKE ALL ON FUNCTION replygate.store_reply FROM PUBLIC;
INSERT INTO replygate.role_grants (role, kind, object, privilege) VALUES
    ('replygate_writer', 'function', 'replygate.store_reply(text,boolean,text,text,text,text,text,numeric,numeric,text,text,text,text,timestamp with time zone,text,text[],text,text,text,text,text,text,integer,bigint,text,text,boolean,text,text,text,text,text,text,boolean,boolean,boolean,boolean,boolean,text,text)', 'EXECUTE');
SELECT replygate.apply_grants();
