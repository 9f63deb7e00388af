-- 0002_application.sql - the application's side (issue 16, SPEC section 8):
-- one reply per e-mail and key, a queue to consume it from, tombstones,
-- refusals as data, and three roles with least privilege.
--
-- Applied by `replygate migrate` inside one transaction (no BEGIN/COMMIT
-- here). It only expands: an agent of the previous version (0001 only) keeps
-- working against it during a rolling upgrade across several MX hosts.
--
--   replygate.messages        + fingerprint, is_test and the queue columns;
--                               the new unique key (message_id, key_kind,
--                               key_target, key_user, fingerprint), backfilled
--                               for every existing row first
--   replygate.reply_recipients  every recipient that carried a stored reply
--   replygate.tombstones      a deleted or purged reply's unique key: never
--                               stored again
--   replygate.refusals        every permanent refusal; record_refusal() writes
--                               it and sends NOTIFY replygate_refusal, '<id>'
--   replygate.settings        one row: max_attempts, the retry delays, retention
--   replygate.role_grants     SPEC section 8's role matrix, as data:
--                               apply_grants() grants exactly it,
--                               grant_problems() reports any difference
--   views for the application: processed_replies (replaced, columns
--                               appended), reply_attachments, refused_replies
--   queue functions: claim, ack, fail, extend, forget
--
-- Rolling upgrade. The old agent inserts with ON CONFLICT (message_id,
-- recipient) and looks its row up by those two columns, so that unique
-- constraint stays as the old agent's arbiter. The new agent writes NULL
-- into messages.recipient (its recipients are in reply_recipients), and a
-- unique constraint never matches NULLs: the old key no longer stops a
-- different message that reuses a Message-ID. A row from an old agent has
-- no fingerprint; a trigger gives it 'legacy:<recipient>', which keeps such
-- rows exactly as unique as before. A later release, once no agent of
-- version 0001 can be left, contracts: it drops the old constraint and the
-- legacy trigger. Nothing here rewrites what an old reader selects: the view
-- keeps its columns in order and only appends.

-- --- settings ---------------------------------------------------------------
CREATE TABLE replygate.settings (
    singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    -- A reply handed out this many times (each claim, and so each expired
    -- lease, is one attempt) and still not acked ends in state 'failed'.
    max_attempts    integer NOT NULL DEFAULT 10 CHECK (max_attempts > 0),
    -- fail() without retry_at waits retry_delay * 2^(attempts - 1), at most
    -- retry_delay_max, before the reply can be claimed again.
    retry_delay     interval NOT NULL DEFAULT '1 minute' CHECK (retry_delay >= '0'),
    retry_delay_max interval NOT NULL DEFAULT '1 hour' CHECK (retry_delay_max >= '0'),
    -- Retention (replygate.conf(5)'s names of the same meaning; NULL keeps
    -- forever). `replygate purge --expired` run by the owner, and `replygate
    -- migrate`, copy them here from replygate.conf; purge_expired() reads
    -- them here, so the writer that runs it cannot shorten them.
    database_keep   interval DEFAULT '365 days' CHECK (database_keep > '0'),
    refusals_keep   interval DEFAULT '90 days' CHECK (refusals_keep > '0'),
    tombstones_keep interval DEFAULT '90 days' CHECK (tombstones_keep > '0')
);
INSERT INTO replygate.settings DEFAULT VALUES;

-- --- messages: the new unique key, test rows, the queue ------------------------
-- Rows stored before this migration are marked done: an application that
-- read them another way must not get them again from claim(). The owner may
-- put some back with UPDATE replygate.messages SET state = 'new'.
ALTER TABLE replygate.messages
    ALTER COLUMN recipient DROP NOT NULL,
    ADD COLUMN fingerprint   text,
    ADD COLUMN is_test       boolean NOT NULL DEFAULT false,
    ADD COLUMN state         text NOT NULL DEFAULT 'done'
        CONSTRAINT messages_state_check CHECK (state IN ('new', 'claimed', 'done', 'failed')),
    ADD COLUMN attempts      integer NOT NULL DEFAULT 0,
    ADD COLUMN last_error    text,
    ADD COLUMN retry_at      timestamptz,
    ADD COLUMN claimed_by    text,
    ADD COLUMN claimed_until timestamptz,
    ADD COLUMN claim_token   uuid,
    ADD COLUMN done_at       timestamptz;
ALTER TABLE replygate.messages ALTER COLUMN state SET DEFAULT 'new';

-- The backfill, before the new key: the old rows were unique on
-- (message_id, recipient), so they stay unique on the new key.
UPDATE replygate.messages SET fingerprint = 'legacy:' || recipient, done_at = received_at;
ALTER TABLE replygate.messages ALTER COLUMN fingerprint SET NOT NULL;
ALTER TABLE replygate.messages
    ADD CONSTRAINT messages_reply_key
    UNIQUE (message_id, key_kind, key_target, key_user, fingerprint);

CREATE INDEX messages_queue_idx ON replygate.messages (id)
    WHERE state IN ('new', 'claimed') AND NOT is_test;
CREATE INDEX messages_key_user_idx ON replygate.messages (key_user);

-- --- every recipient that carried a stored reply -----------------------------
CREATE TABLE replygate.reply_recipients (
    reply_id       bigint NOT NULL REFERENCES replygate.messages (id) ON DELETE CASCADE,
    recipient      text NOT NULL,              -- envelope recipient, lower case
    queue_id       text,                       -- of the first delivery to it
    client_address text,
    received_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (reply_id, recipient)
);
INSERT INTO replygate.reply_recipients (reply_id, recipient, queue_id, client_address, received_at)
SELECT id, recipient, queue_id, client_address, received_at FROM replygate.messages;

-- --- tombstones ------------------------------------------------------------
-- What stays of a reply that forget() or `replygate purge` removed: its
-- unique key, so that a replay or a redelivery never stores it again.
-- raw_sha256 also stops a replay of the very same bytes of a row that had
-- only a legacy fingerprint.
CREATE TABLE replygate.tombstones (
    message_id  text NOT NULL,
    key_kind    text NOT NULL,
    key_target  numeric(20, 0) NOT NULL,
    key_user    numeric(20, 0) NOT NULL,
    fingerprint text NOT NULL,
    raw_sha256  text,
    reply_id    bigint,                        -- the id the reply had
    deleted_at  timestamptz NOT NULL DEFAULT now(),
    reason      text NOT NULL,                 -- 'forget', 'purge --user 5', ...
    CONSTRAINT tombstones_reply_key
        UNIQUE (message_id, key_kind, key_target, key_user, fingerprint)
);
CREATE INDEX tombstones_deleted_at_idx ON replygate.tombstones (deleted_at);

-- messages_before_insert - a legacy row gets its fingerprint; a reply with a
-- tombstone is not stored (the INSERT affects no row, as a duplicate would)
CREATE FUNCTION replygate.messages_before_insert() RETURNS trigger
LANGUAGE plpgsql SET search_path = replygate, pg_temp AS $$
BEGIN
    IF NEW.fingerprint IS NULL THEN
        NEW.fingerprint := 'legacy:' || coalesce(NEW.recipient, '');
    END IF;
    IF EXISTS (SELECT 1 FROM replygate.tombstones t
                WHERE t.message_id = NEW.message_id AND t.key_kind = NEW.key_kind
                  AND t.key_target = NEW.key_target AND t.key_user = NEW.key_user
                  AND (t.fingerprint = NEW.fingerprint OR t.raw_sha256 = NEW.raw_sha256)) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER messages_before_insert BEFORE INSERT ON replygate.messages
    FOR EACH ROW EXECUTE FUNCTION replygate.messages_before_insert();

-- messages_legacy_recipient - an old agent's row names its recipient in the
-- row itself; record it where the new agent records every recipient
CREATE FUNCTION replygate.messages_legacy_recipient() RETURNS trigger
LANGUAGE plpgsql SET search_path = replygate, pg_temp AS $$
BEGIN
    INSERT INTO replygate.reply_recipients (reply_id, recipient, queue_id, client_address)
    VALUES (NEW.id, NEW.recipient, NEW.queue_id, NEW.client_address)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER messages_legacy_recipient AFTER INSERT ON replygate.messages
    FOR EACH ROW WHEN (NEW.recipient IS NOT NULL)
    EXECUTE FUNCTION replygate.messages_legacy_recipient();

-- messages_tombstone_race - at commit, a reply whose key got a tombstone
-- while it was being stored (forget() deleted the row this INSERT had been
-- waiting on) is refused with SQLSTATE RG001: the agent counts it as
-- purged, and a retry finds the tombstone before inserting.
CREATE FUNCTION replygate.messages_tombstone_race() RETURNS trigger
LANGUAGE plpgsql SET search_path = replygate, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM replygate.tombstones t
                WHERE t.message_id = NEW.message_id AND t.key_kind = NEW.key_kind
                  AND t.key_target = NEW.key_target AND t.key_user = NEW.key_user
                  AND t.fingerprint = NEW.fingerprint) THEN
        RAISE EXCEPTION 'replygate: reply % was deleted while it was being stored', NEW.message_id
            USING ERRCODE = 'RG001';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER messages_tombstone_race AFTER INSERT ON replygate.messages
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION replygate.messages_tombstone_race();

-- --- refusals --------------------------------------------------------------
CREATE TABLE replygate.refusals (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    refused_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    stage          text NOT NULL
        CONSTRAINT refusals_stage_check CHECK (stage IN ('rcpt', 'headers', 'message', 'delivery')),
    smtp_code      integer,                    -- 550, or NULL after the queue
    enhanced_code  text,                       -- 5.1.1
    reason         text,                       -- the refusal's text
    sender         text,                       -- envelope sender, '' for <>
    recipient      text,
    from_address   text,
    key_kind       text,
    key_target     numeric(20, 0),
    key_user       numeric(20, 0),
    message_id     text,
    client_address text,
    client_name    text,
    queue_id       text
);
CREATE INDEX refusals_refused_at_idx ON replygate.refusals (refused_at);
CREATE INDEX refusals_key_user_idx ON replygate.refusals (key_user);

-- record_refusal - the one way every writer (milter, agent) records a
-- refusal: insert the row, NOTIFY replygate_refusal with its id. Texts come
-- from outsiders, so each is cut to a bounded length.
CREATE FUNCTION replygate.record_refusal(stage text, smtp_code integer, enhanced_code text,
                                         reason text, sender text, recipient text,
                                         from_address text, key_kind text, key_target numeric,
                                         key_user numeric, message_id text,
                                         client_address text, client_name text, queue_id text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = replygate, pg_temp AS $$
DECLARE
    new_id bigint;
BEGIN
    INSERT INTO replygate.refusals (stage, smtp_code, enhanced_code, reason, sender, recipient,
                                    from_address, key_kind, key_target, key_user, message_id,
                                    client_address, client_name, queue_id)
    VALUES (record_refusal.stage, record_refusal.smtp_code, left(record_refusal.enhanced_code, 16),
            left(record_refusal.reason, 1000), left(record_refusal.sender, 998),
            left(record_refusal.recipient, 998), left(record_refusal.from_address, 998),
            left(record_refusal.key_kind, 16), record_refusal.key_target, record_refusal.key_user,
            left(record_refusal.message_id, 998), left(record_refusal.client_address, 64),
            left(record_refusal.client_name, 255), left(record_refusal.queue_id, 64))
    RETURNING id INTO new_id;
    PERFORM pg_notify('replygate_refusal', new_id::text);
    RETURN new_id;
END $$;

-- refusal_counts - how many refusals by stage and enhanced code, for
-- `replygate metrics`, which runs as the writer: counts, not the rows
CREATE FUNCTION replygate.refusal_counts()
RETURNS TABLE (stage text, enhanced_code text, refusals bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = replygate, pg_temp AS $$
    SELECT f.stage, coalesce(f.enhanced_code, ''), count(*)
      FROM replygate.refusals f GROUP BY 1, 2 ORDER BY 1, 2
$$;

-- --- the application's views ---------------------------------------------------
-- Compatibility promise (replygate-app(7)): a later migration never drops,
-- renames or retypes a column of these views; it only appends columns at the
-- end, with CREATE OR REPLACE VIEW. Test rows (is_test) never appear.
CREATE OR REPLACE VIEW replygate.processed_replies AS
SELECT m.id,
       m.key_kind    AS kind,
       m.key_target  AS target,
       m.key_user    AS "user",
       m.key_user    AS user_id,
       m.key_source  AS source,
       m.sender,
       coalesce(m.recipient,
                (SELECT r.recipient FROM replygate.reply_recipients r
                  WHERE r.reply_id = m.id ORDER BY r.received_at, r.recipient LIMIT 1))
                     AS recipient,
       m.from_name,
       m.from_address,
       m.subject,
       m.reply_text,
       m.quoted_text,
       m.body_text,
       m.body_html,
       m.message_id,
       m.in_reply_to,
       m.queue_id,
       m.client_address,
       m.tls_version,
       m.tls_cipher,
       m.date,
       m.received_at,
       m.committed_at,
       (SELECT count(*) FROM replygate.attachments a WHERE a.reply_id = m.id) AS attachment_count,
       -- appended by 0002
       m.state,
       m.attempts,
       m.last_error,
       m.retry_at,
       m.claimed_by,
       m.claimed_until,
       m.claim_token,
       m.done_at,
       ARRAY(SELECT r.recipient FROM replygate.reply_recipients r
              WHERE r.reply_id = m.id ORDER BY r.received_at, r.recipient) AS recipients,
       m.fingerprint
  FROM replygate.messages m
 WHERE NOT m.is_test;

-- inline is also true for a part that body_html names as cid:<content id>
-- (RFC 2392), however the sender's client labelled it.
CREATE VIEW replygate.reply_attachments AS
SELECT a.id,
       a.reply_id,
       a.position,
       a.filename,
       a.content_type,
       a.content_id,
       a.inline OR coalesce(a.content_id <> '' AND m.body_html ~*
           ('cid:' || regexp_replace(a.content_id, '([^[:alnum:]])', '\\\1', 'g')
            || '($|[^[:alnum:]@._%+-])'), false) AS inline,
       a.size,
       a.sha256,
       a.data
  FROM replygate.attachments a
  JOIN replygate.messages m ON m.id = a.reply_id
 WHERE NOT m.is_test;

CREATE VIEW replygate.refused_replies AS
SELECT f.id,
       f.refused_at,
       f.stage,
       f.smtp_code,
       f.enhanced_code,
       f.reason,
       f.sender,
       f.recipient,
       f.from_address,
       f.key_kind   AS kind,
       f.key_target AS target,
       f.key_user   AS "user",
       f.message_id,
       f.client_address,
       f.client_name,
       f.queue_id
  FROM replygate.refusals f;

-- --- the queue -------------------------------------------------------------
-- claim - up to n replies that are new (and due), or whose lease expired,
-- oldest first, each with a fresh claim_token and a lease; every claim is
-- one attempt. A lease that expired on the last allowed attempt ends the
-- reply in 'failed'. Nothing renews a lease but extend().
CREATE FUNCTION replygate.claim(worker text, n integer, lease interval)
RETURNS SETOF replygate.processed_replies
LANGUAGE plpgsql SECURITY DEFINER SET search_path = replygate, pg_temp AS $$
DECLARE
    limit_attempts integer;
    ids bigint[];
BEGIN
    IF n IS NULL OR n < 1 OR lease IS NULL OR lease <= interval '0' THEN
        RAISE EXCEPTION 'replygate.claim: n must be 1 or more and lease positive'
            USING ERRCODE = '22023';
    END IF;
    SELECT s.max_attempts INTO limit_attempts FROM replygate.settings s;
    UPDATE replygate.messages m
       SET state = 'failed', claim_token = NULL, claimed_until = NULL,
           last_error = 'lease of ' || coalesce(m.claimed_by, '?') || ' expired on attempt '
                        || m.attempts || ' of ' || limit_attempts
     WHERE m.id IN (SELECT x.id FROM replygate.messages x
                     WHERE x.state = 'claimed' AND NOT x.is_test
                       AND x.claimed_until < clock_timestamp() AND x.attempts >= limit_attempts
                       FOR UPDATE SKIP LOCKED);
    WITH picked AS (
        SELECT x.id FROM replygate.messages x
         WHERE x.state IN ('new', 'claimed') AND NOT x.is_test
           AND ((x.state = 'new' AND (x.retry_at IS NULL OR x.retry_at <= clock_timestamp()))
                OR (x.state = 'claimed' AND x.claimed_until < clock_timestamp()
                    AND x.attempts < limit_attempts))
         ORDER BY x.id
         LIMIT n
           FOR UPDATE SKIP LOCKED),
    claimed AS (
        UPDATE replygate.messages m
           SET state = 'claimed', attempts = m.attempts + 1, claimed_by = left(worker, 200),
               claimed_until = clock_timestamp() + lease, claim_token = gen_random_uuid(),
               retry_at = NULL,
               last_error = CASE WHEN m.state = 'claimed'
                                 THEN 'lease of ' || coalesce(m.claimed_by, '?') || ' expired'
                                 ELSE m.last_error END
          FROM picked
         WHERE m.id = picked.id
        RETURNING m.id)
    SELECT array_agg(c.id) INTO ids FROM claimed c;
    RETURN QUERY SELECT p.* FROM replygate.processed_replies p WHERE p.id = ANY (ids) ORDER BY p.id;
END $$;

-- ack - the reply is done; false when token no longer holds it (the lease
-- expired and another worker claimed it, or it was acked already)
CREATE FUNCTION replygate.ack(id bigint, token uuid) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = replygate, pg_temp AS $$
BEGIN
    UPDATE replygate.messages m
       SET state = 'done', done_at = clock_timestamp(), claimed_until = NULL, claim_token = NULL
     WHERE m.id = ack.id AND m.claim_token = ack.token AND m.state = 'claimed' AND NOT m.is_test;
    RETURN FOUND;
END $$;

-- fail - the worker could not handle the reply: it is tried again at
-- retry_at, or after the backoff of settings, unless this was the last
-- attempt, which ends it in 'failed'; false when token no longer holds it
CREATE FUNCTION replygate.fail(id bigint, token uuid, error text,
                               retry_at timestamptz DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = replygate, pg_temp AS $$
DECLARE
    s replygate.settings%ROWTYPE;
BEGIN
    SELECT * INTO s FROM replygate.settings;
    UPDATE replygate.messages m
       SET state = CASE WHEN m.attempts >= s.max_attempts THEN 'failed' ELSE 'new' END,
           last_error = left(fail.error, 2000),
           retry_at = CASE WHEN m.attempts >= s.max_attempts THEN NULL
                           ELSE coalesce(fail.retry_at,
                                         clock_timestamp() + least(s.retry_delay_max,
                                             s.retry_delay * power(2, least(m.attempts - 1, 30))))
                      END,
           claimed_until = NULL, claim_token = NULL
     WHERE m.id = fail.id AND m.claim_token = fail.token AND m.state = 'claimed'
       AND NOT m.is_test;
    RETURN FOUND;
END $$;

-- extend - a longer lease for a reply still held with token; false otherwise
CREATE FUNCTION replygate.extend(id bigint, token uuid, lease interval) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = replygate, pg_temp AS $$
BEGIN
    IF lease IS NULL OR lease <= interval '0' THEN
        RAISE EXCEPTION 'replygate.extend: lease must be positive' USING ERRCODE = '22023';
    END IF;
    UPDATE replygate.messages m
       SET claimed_until = clock_timestamp() + extend.lease
     WHERE m.id = extend.id AND m.claim_token = extend.token AND m.state = 'claimed'
       AND NOT m.is_test;
    RETURN FOUND;
END $$;

-- bury - delete replies (their attachments and recipients go with them) and
-- leave a tombstone for each; returns the ids that went. forget() and
-- `replygate purge` both come here. Not granted to anyone but the owner.
CREATE FUNCTION replygate.bury(ids bigint[], why text) RETURNS SETOF bigint
LANGUAGE sql SET search_path = replygate, pg_temp AS $$
    WITH gone AS (
        DELETE FROM replygate.messages m WHERE m.id = ANY (ids)
        RETURNING m.id, m.message_id, m.key_kind, m.key_target, m.key_user, m.fingerprint,
                  m.raw_sha256),
    stones AS (
        INSERT INTO replygate.tombstones (message_id, key_kind, key_target, key_user,
                                          fingerprint, raw_sha256, reply_id, reason)
        SELECT g.message_id, g.key_kind, g.key_target, g.key_user, g.fingerprint, g.raw_sha256,
               g.id, why
          FROM gone g
        ON CONFLICT ON CONSTRAINT tombstones_reply_key
        DO UPDATE SET deleted_at = excluded.deleted_at, reason = excluded.reason,
                      reply_id = excluded.reply_id)
    SELECT g.id FROM gone g ORDER BY g.id
$$;

-- forget - the application's deletion of one reply it can see: the row, its
-- attachments and recipients go, a tombstone stays; false when there was none
CREATE FUNCTION replygate.forget(id bigint) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = replygate, pg_temp AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM replygate.bury(
        ARRAY(SELECT m.id FROM replygate.messages m WHERE m.id = forget.id AND NOT m.is_test),
        'forget'));
END $$;

-- purge_expired - one batch of what the retention in settings lets go:
-- replies received before database_keep (buried: a tombstone each),
-- refusals older than refusals_keep, tombstones older than tombstones_keep;
-- returns how many of each went. `replygate purge --expired` calls it until
-- nothing is left, each batch its own transaction; with dry_run it counts
-- everything that would go and changes nothing. The writer may run it (the
-- daily timer on an MX host): it takes no age, so it cannot shorten what
-- the owner set.
CREATE FUNCTION replygate.purge_expired(batch integer DEFAULT 1000, dry_run boolean DEFAULT false)
RETURNS TABLE (replies bigint, refusals bigint, tombstones bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = replygate, pg_temp AS $$
DECLARE
    s replygate.settings%ROWTYPE;
    n integer := greatest(1, least(coalesce(batch, 1000), 100000));
BEGIN
    SELECT * INTO s FROM replygate.settings;
    replies := 0;
    refusals := 0;
    tombstones := 0;
    IF dry_run THEN
        SELECT count(*) INTO replies FROM replygate.messages m
         WHERE m.received_at < now() - s.database_keep;
        SELECT count(*) INTO refusals FROM replygate.refusals f
         WHERE f.refused_at < now() - s.refusals_keep;
        SELECT count(*) INTO tombstones FROM replygate.tombstones t
         WHERE t.deleted_at < now() - s.tombstones_keep;
        RETURN NEXT;
        RETURN;
    END IF;
    IF s.database_keep IS NOT NULL THEN
        SELECT count(*) INTO replies FROM replygate.bury(
            ARRAY(SELECT m.id FROM replygate.messages m
                   WHERE m.received_at < now() - s.database_keep ORDER BY m.id LIMIT n),
            'purge: older than database_keep (' || s.database_keep || ')');
    END IF;
    IF s.refusals_keep IS NOT NULL THEN
        WITH gone AS (DELETE FROM replygate.refusals f
                       WHERE f.id IN (SELECT x.id FROM replygate.refusals x
                                       WHERE x.refused_at < now() - s.refusals_keep
                                       ORDER BY x.id LIMIT n)
                      RETURNING 1)
        SELECT count(*) INTO refusals FROM gone;
    END IF;
    IF s.tombstones_keep IS NOT NULL THEN
        WITH gone AS (DELETE FROM replygate.tombstones t
                       WHERE t.ctid IN (SELECT x.ctid FROM replygate.tombstones x
                                         WHERE x.deleted_at < now() - s.tombstones_keep
                                         LIMIT n)
                      RETURNING 1)
        SELECT count(*) INTO tombstones FROM gone;
    END IF;
    RETURN NEXT;
END $$;

-- --- roles ---------------------------------------------------------------
-- SPEC section 8's matrix as data. Later migrations add their rows here (a
-- new table for the application, say) and `replygate migrate` calls
-- apply_grants() after every run, so roles created after a migration still
-- get exactly their grants.
CREATE TABLE replygate.role_grants (
    role      name NOT NULL,
    kind      text NOT NULL CHECK (kind IN ('schema', 'table', 'function')),
    object    text NOT NULL,             -- replygate.name, or replygate.name(argtype,...)
    privilege text NOT NULL,
    PRIMARY KEY (role, kind, object, privilege)
);
INSERT INTO replygate.role_grants (role, kind, object, privilege) VALUES
    ('replygate_writer', 'schema',   'replygate', 'USAGE'),
    ('replygate_writer', 'table',    'replygate.messages', 'SELECT'),
    ('replygate_writer', 'table',    'replygate.messages', 'INSERT'),
    ('replygate_writer', 'table',    'replygate.attachments', 'INSERT'),
    ('replygate_writer', 'table',    'replygate.reply_recipients', 'SELECT'),
    ('replygate_writer', 'table',    'replygate.reply_recipients', 'INSERT'),
    ('replygate_writer', 'table',    'replygate.tombstones', 'SELECT'),
    ('replygate_writer', 'table',    'replygate.settings', 'SELECT'),
    ('replygate_writer', 'table',    'replygate.schema_migrations', 'SELECT'),
    ('replygate_writer', 'function', 'replygate.record_refusal(text,integer,text,text,text,text,text,text,numeric,numeric,text,text,text,text)', 'EXECUTE'),
    ('replygate_writer', 'function', 'replygate.grant_problems()', 'EXECUTE'),
    ('replygate_writer', 'function', 'replygate.purge_expired(integer,boolean)', 'EXECUTE'),
    ('replygate_writer', 'function', 'replygate.refusal_counts()', 'EXECUTE'),
    ('replygate_app',    'schema',   'replygate', 'USAGE'),
    ('replygate_app',    'table',    'replygate.processed_replies', 'SELECT'),
    ('replygate_app',    'table',    'replygate.reply_attachments', 'SELECT'),
    ('replygate_app',    'table',    'replygate.refused_replies', 'SELECT'),
    ('replygate_app',    'function', 'replygate.claim(text,integer,interval)', 'EXECUTE'),
    ('replygate_app',    'function', 'replygate.ack(bigint,uuid)', 'EXECUTE'),
    ('replygate_app',    'function', 'replygate.fail(bigint,uuid,text,timestamp with time zone)', 'EXECUTE'),
    ('replygate_app',    'function', 'replygate.extend(bigint,uuid,interval)', 'EXECUTE'),
    ('replygate_app',    'function', 'replygate.forget(bigint)', 'EXECUTE');

-- granted_privileges - what the replygate roles and PUBLIC hold in the
-- schema now, in role_grants' terms (owners' implicit rights left out)
CREATE FUNCTION replygate.granted_privileges()
RETURNS TABLE (role name, kind text, object text, privilege text)
LANGUAGE sql STABLE SET search_path = replygate, pg_temp AS $$
    SELECT coalesce(r.rolname, 'PUBLIC'), 'schema', n.nspname::text, a.privilege_type
      FROM pg_namespace n, aclexplode(n.nspacl) a
      LEFT JOIN pg_roles r ON r.oid = a.grantee
     WHERE n.nspname = 'replygate' AND a.grantee <> n.nspowner
    UNION ALL
    SELECT coalesce(r.rolname, 'PUBLIC'), 'table', 'replygate.' || c.relname, a.privilege_type
      FROM pg_class c, aclexplode(c.relacl) a
      LEFT JOIN pg_roles r ON r.oid = a.grantee
     WHERE c.relnamespace = 'replygate'::regnamespace AND a.grantee <> c.relowner
    UNION ALL
    SELECT coalesce(r.rolname, 'PUBLIC'), 'function',
           'replygate.' || p.proname || '(' ||
           array_to_string(ARRAY(SELECT format_type(t.oid, NULL)
                                   FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY t(oid, i)
                                  ORDER BY t.i), ',') || ')',
           a.privilege_type
      FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
      LEFT JOIN pg_roles r ON r.oid = a.grantee
     WHERE p.pronamespace = 'replygate'::regnamespace AND a.grantee <> p.proowner
$$;

-- apply_grants - make the privileges exactly role_grants: every object in
-- the schema owned by replygate_owner (when it exists and the caller may
-- hand objects to it), EXECUTE on no function for PUBLIC, and for each of
-- replygate_writer and replygate_app that exists, exactly its rows.
CREATE FUNCTION replygate.apply_grants() RETURNS void
LANGUAGE plpgsql SET search_path = replygate, pg_temp AS $$
DECLARE
    o record;
    owner_oid oid := (SELECT oid FROM pg_roles WHERE rolname = 'replygate_owner');
BEGIN
    IF owner_oid IS NOT NULL AND pg_has_role(current_user, owner_oid, 'USAGE') THEN
        IF (SELECT nspowner FROM pg_namespace WHERE nspname = 'replygate') <> owner_oid THEN
            ALTER SCHEMA replygate OWNER TO replygate_owner;
        END IF;
        FOR o IN SELECT c.oid::regclass AS name, c.relkind
                   FROM pg_class c
                  WHERE c.relnamespace = 'replygate'::regnamespace
                    AND c.relkind IN ('r', 'v', 'm', 'p')
                    AND c.relowner <> owner_oid LOOP
            EXECUTE format('ALTER %s %s OWNER TO replygate_owner',
                           CASE o.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                          ELSE 'TABLE' END, o.name);
        END LOOP;
        FOR o IN SELECT p.oid::regprocedure AS name FROM pg_proc p
                  WHERE p.pronamespace = 'replygate'::regnamespace
                    AND p.proowner <> owner_oid LOOP
            EXECUTE format('ALTER FUNCTION %s OWNER TO replygate_owner', o.name);
        END LOOP;
    END IF;
    FOR o IN SELECT g.role, g.kind, g.object, g.privilege FROM replygate.granted_privileges() g
              WHERE g.role IN ('PUBLIC', 'replygate_writer', 'replygate_app')
                AND NOT EXISTS (SELECT 1 FROM replygate.role_grants e
                                 WHERE e.role = g.role AND e.kind = g.kind
                                   AND e.object = g.object AND e.privilege = g.privilege) LOOP
        EXECUTE format('REVOKE %s ON %s %s FROM %s', o.privilege, upper(o.kind), o.object,
                       CASE o.role WHEN 'PUBLIC' THEN 'PUBLIC' ELSE quote_ident(o.role) END);
    END LOOP;
    FOR o IN SELECT e.role, e.kind, e.object, e.privilege FROM replygate.role_grants e
               JOIN pg_roles r ON r.rolname = e.role LOOP
        EXECUTE format('GRANT %s ON %s %s TO %I', o.privilege, upper(o.kind), o.object, o.role);
    END LOOP;
END $$;

-- grant_problems - every difference between the roles' privileges and
-- role_grants, one line each ('' when all is as it should be); what
-- `replygate check` reports
CREATE FUNCTION replygate.grant_problems() RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = replygate, pg_temp AS $$
    SELECT 'role ' || r.name || ' does not exist'
      FROM unnest(ARRAY['replygate_owner', 'replygate_writer', 'replygate_app']::name[]) r(name)
     WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r.name)
    UNION ALL
    SELECT 'schema replygate is owned by ' || n.nspowner::regrole || ', not replygate_owner'
      FROM pg_namespace n
     WHERE n.nspname = 'replygate'
       AND n.nspowner IS DISTINCT FROM (SELECT oid FROM pg_roles WHERE rolname = 'replygate_owner')
    UNION ALL
    SELECT e.role || ' lacks ' || e.privilege || ' on ' || e.kind || ' ' || e.object
      FROM replygate.role_grants e
     WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = e.role)
       AND NOT EXISTS (SELECT 1 FROM replygate.granted_privileges() g
                        WHERE g.role = e.role AND g.kind = e.kind AND g.object = e.object
                          AND g.privilege = e.privilege)
    UNION ALL
    SELECT g.role || ' holds ' || g.privilege || ' on ' || g.kind || ' ' || g.object
           || ', which SPEC section 8 does not give it'
      FROM replygate.granted_privileges() g
     WHERE g.role IN ('PUBLIC', 'replygate_writer', 'replygate_app')
       AND NOT EXISTS (SELECT 1 FROM replygate.role_grants e
                        WHERE e.role = g.role AND e.kind = g.kind AND e.object = g.object
                          AND e.privilege = g.privilege)
    ORDER BY 1
$$;

-- New functions are EXECUTE for PUBLIC by default: not here.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA replygate FROM PUBLIC;
SELECT replygate.apply_grants();
