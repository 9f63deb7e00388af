-- 0001_init.sql - the replygate schema (SPEC section 8).
--
-- Applied by `replygate migrate` inside one transaction, and recorded in
-- replygate.schema_migrations. No BEGIN/COMMIT here: migrate wraps the file.
--
-- replygate.messages       one row per stored reply (unique per Message-ID
--                          and envelope recipient)
-- replygate.attachments    the decoded bytes of each attachment
-- replygate.processed_replies  the view the application reads
-- Each stored reply also sends NOTIFY replygate_reply, '<messages.id>'.

CREATE SCHEMA IF NOT EXISTS replygate;

CREATE TABLE IF NOT EXISTS replygate.schema_migrations (
    version    text PRIMARY KEY,                 -- the file name, e.g. 0001_init.sql
    applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE replygate.messages (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The Message-ID without angle brackets, or 'sha256:<hex>' of the raw
    -- message when it has none (message_id_hashed is then true).
    message_id         text NOT NULL,
    message_id_hashed  boolean NOT NULL DEFAULT false,
    recipient          text NOT NULL,            -- envelope recipient (-r), lower case
    queue_id           text,                     -- Postfix queue id (-q)
    client_address     text,                     -- SMTP client address (-c)
    sender             text NOT NULL,            -- envelope sender (-f), '' for <>
    key_kind           text NOT NULL,
    key_target         numeric(20, 0) NOT NULL,  -- up to 20 digits: wider than bigint
    key_user           numeric(20, 0) NOT NULL,
    key_source         text,                     -- envelope, to, ..., references
    subject            text,
    from_name          text,
    from_address       text,
    date               timestamptz,              -- the Date header
    in_reply_to        text,
    message_references text[] NOT NULL DEFAULT '{}',
    body_text          text NOT NULL DEFAULT '',
    reply_text         text NOT NULL DEFAULT '',
    quoted_text        text NOT NULL DEFAULT '',
    body_html          text,
    tls_version        text,                     -- from the milter's X-Replygate-TLS
    tls_cipher         text,
    tls_bits           integer,
    raw_size           bigint NOT NULL DEFAULT 0,
    raw_sha256         text,
    -- received_at is the start of the storing transaction; committed_at is
    -- the moment the row was written, the last step before the commit (the
    -- end of the 250-to-row latency the benchmark measures).
    received_at        timestamptz NOT NULL DEFAULT now(),
    committed_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT messages_message_id_recipient_key UNIQUE (message_id, recipient)
);

CREATE INDEX messages_received_at_idx ON replygate.messages (received_at);
CREATE INDEX messages_key_idx ON replygate.messages (key_kind, key_target);

CREATE TABLE replygate.attachments (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reply_id     bigint NOT NULL REFERENCES replygate.messages (id) ON DELETE CASCADE,
    position     integer NOT NULL,               -- 1, 2, ... in message order
    filename     text,
    content_type text NOT NULL,
    content_id   text,
    size         bigint NOT NULL,
    sha256       text NOT NULL,                  -- hex of the decoded bytes
    inline       boolean NOT NULL DEFAULT false,
    data         bytea NOT NULL,
    CONSTRAINT attachments_reply_position_key UNIQUE (reply_id, position)
);

-- What the application reads: one row per stored reply. "user" is quoted
-- because a bare user is SQL's current_user; user_id says the same plainly.
CREATE VIEW replygate.processed_replies AS
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
       (SELECT count(*) FROM replygate.attachments a WHERE a.reply_id = m.id) AS attachment_count
  FROM replygate.messages m;
