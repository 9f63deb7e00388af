-- 0003_auth.sql - who sent a reply (issue 17): what our verifiers found, the
-- From check against the application's own address list, action addresses.
--
-- Applied by `replygate migrate` inside one transaction, on top of
-- 0002_application.sql. Expand only: new nullable columns (action has a
-- default) and a new table, so an agent one version behind keeps storing
-- replies while several MX hosts are upgraded one by one.
--
-- replygate.messages          + the verifiers' results, the From check, action
-- replygate.user_addresses    the addresses each user may reply from, filled
--                             by the application
-- replygate.processed_replies + the new columns, appended at the end
-- replygate.role_grants       + the writer reads user_addresses, the
--                               application maintains it

-- What the delivery agent read from the Authentication-Results headers of
-- our own authserv-id (replygate.conf(5): authserv_id). NULL: not known.
ALTER TABLE replygate.messages
    -- the authserv_id the results were read for; NULL when none was
    -- configured, so nothing was checked
    ADD COLUMN authserv_id     text,
    ADD COLUMN spf             text,             -- pass, fail, softfail, none, ...
    ADD COLUMN dkim            text,             -- pass when a signature passed
    ADD COLUMN dkim_domain     text,             -- the d= of the signature that passed
    ADD COLUMN dmarc           text,             -- the DMARC result for from_domain
    ADD COLUMN from_domain     text,             -- the From address's domain, lower case
    -- an aligned pass: DMARC's pass, or a passing DKIM d= or SPF domain of
    -- the From domain's organizational domain (public suffix list)
    ADD COLUMN aligned         boolean,
    -- is From / the envelope sender one of the key's user's addresses in
    -- replygate.user_addresses? NULL: not checked (user 0, no sender)
    ADD COLUMN from_verified   boolean,
    ADD COLUMN sender_verified boolean,
    -- the key's kind is one of action_kinds (e.g. u, unsubscribe): the
    -- message stands for an action and may have an empty body
    ADD COLUMN action          boolean NOT NULL DEFAULT false;

-- The addresses a user may reply from, maintained by the application (for
-- GitLab, a user's verified e-mail addresses). Compared without regard to
-- letter case; one address may belong to several users.
CREATE TABLE replygate.user_addresses (
    user_id    numeric(20, 0) NOT NULL CHECK (user_id >= 0),
    address    text NOT NULL CHECK (address ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX user_addresses_user_address_key
    ON replygate.user_addresses (user_id, lower(address));

-- The view the application reads: 0002's definition, the new columns
-- appended at the end (replygate-app(7)'s compatibility promise).
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
       m.fingerprint,
       -- appended by 0003
       m.spf,
       m.dkim,
       m.dkim_domain,
       m.dmarc,
       m.from_domain,
       m.from_verified,
       m.action,
       m.aligned,
       m.sender_verified,
       m.authserv_id
  FROM replygate.messages m
 WHERE NOT m.is_test;

-- SPEC section 8's matrix: the delivery programs read the table (from_check),
-- the application maintains it. `replygate migrate` runs apply_grants()
-- after every run; calling it here too keeps a migration applied by hand
-- complete.
INSERT INTO replygate.role_grants (role, kind, object, privilege) VALUES
    ('replygate_writer', 'table', 'replygate.user_addresses', 'SELECT'),
    ('replygate_app',    'table', 'replygate.user_addresses', 'SELECT'),
    ('replygate_app',    'table', 'replygate.user_addresses', 'INSERT'),
    ('replygate_app',    'table', 'replygate.user_addresses', 'UPDATE'),
    ('replygate_app',    'table', 'replygate.user_addresses', 'DELETE');
SELECT replygate.apply_grants();
