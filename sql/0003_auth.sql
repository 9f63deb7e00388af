-- 0003_auth.sql - who sent a reply (issue 17): what our verifiers found, the
-- From check against the application's own address list, action addresses.
--
-- Applied by `replygate migrate` inside one transaction. Expand only: new
-- nullable columns and a new table, so an agent one version behind keeps
-- storing replies while several MX hosts are upgraded one by one.
--
-- replygate.messages          + the verifiers' results, the From check, action
-- replygate.user_addresses    the addresses each user may reply from, filled
--                             by the application
-- replygate.processed_replies + the new columns, appended at the end

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

-- The view the application reads, with the new columns at the end.
CREATE OR REPLACE VIEW replygate.processed_replies AS
SELECT m.id,
       m.key_kind    AS kind,
       m.key_target  AS target,
       m.key_user    AS "user",
       m.key_user    AS user_id,
       m.key_source  AS source,
       m.sender,
       m.recipient,
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
  FROM replygate.messages m;
