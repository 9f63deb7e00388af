-- 0005_lz4.sql - a reply's texts and attachments compressed with LZ4, where
-- the server was built with it.
--
-- Applied by `replygate migrate` inside one transaction, on top of
-- 0004_store.sql. Nothing changes for a reader: PostgreSQL decompresses on
-- read whatever the method, and the rows stored before keep theirs (pglz).
-- The agents of 0004 need nothing of this file; it only makes each new row
-- cheaper to write and to read.
--
-- Why. A reply is stored three times over as text (body_text, reply_text,
-- quoted_text, often body_html as well), and PostgreSQL compresses every
-- value over about 2 KB before it writes the row: with pglz, the default,
-- that is a good part of the insert's own time (a 10 KB reply: 12 KB of
-- text). LZ4 compresses several times faster, at a slightly lower ratio,
-- and is also faster to decompress for the application.
--
-- Servers built without LZ4 (configure --without-lz4) keep pglz: the file
-- checks default_toast_compression's allowed values and changes nothing
-- there; before PostgreSQL 14, which has no such setting and no SET
-- COMPRESSION, neither. The ALTERs are EXECUTEd strings, because PL/pgSQL
-- checks the grammar of a block's statements before it runs any. A dump of
-- this schema restored into a server without LZ4 fails on these ALTERs only
-- (the columns then keep pglz); pg_dump --no-toast-compression leaves them
-- out.
--
-- SET COMPRESSION takes an ACCESS EXCLUSIVE lock on the two tables for a
-- moment. Behind a long reader (a pg_dump, a slow report) it would wait, and
-- every delivery and every read would queue behind it: after 5 s it gives
-- up instead, the file is not applied, and `replygate migrate` can simply
-- be run again.

SET LOCAL lock_timeout = '5s';

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        EXECUTE 'ALTER TABLE replygate.messages
                     ALTER COLUMN body_text SET COMPRESSION lz4,
                     ALTER COLUMN reply_text SET COMPRESSION lz4,
                     ALTER COLUMN quoted_text SET COMPRESSION lz4,
                     ALTER COLUMN body_html SET COMPRESSION lz4';
        EXECUTE 'ALTER TABLE replygate.attachments ALTER COLUMN data SET COMPRESSION lz4';
    END IF;
END
$$;
