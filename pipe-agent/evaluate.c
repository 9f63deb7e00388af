/*
 * evaluate.c - the agent's decision about one message (SPEC sections 3 to 5).
 *
 * The order is: parse (65 5.6.0 when the bytes are no message), auto-submitted
 * (77 5.7.1), key (67 5.1.1), empty reply (65 5.6.0), else 0 2.0.0. The key is
 * looked up even for an auto-submitted message, so --dry-run shows it. A reply
 * that is only an attachment is a reply: it is empty only when it has no text
 * and no attachment. No I/O here: deliver.c stores or prints the verdict.
 */
#include <string.h>

#include "evaluate.h"
#include "json.h"
#include "keyfind.h"
#include "testmark.h"
#include "trace.h"

/* evaluate_printable - a copy fit for a DSN line: control characters become spaces */
static char *
evaluate_printable(const char *text)
{
    char *copy = g_utf8_make_valid(text != NULL ? text : "", -1);

    for (char *p = copy; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    return copy;
}

/* evaluate_tls - believe an X-Replygate-TLS header only when its mac verifies
 * (trace.h) for this queue id: a forged or replayed one is ignored, and the
 * verdict says why for the agent's warning. With several, a verified one counts. */
static void
evaluate_tls(Verdict *verdict, const KeyRing *ring, const Message *message, const char *queue_id)
{
    const char *first_reason = NULL;

    for (guint i = 0; i < message->headers->len; i++) {
        const HeaderField *field = &g_array_index(message->headers, HeaderField, i);
        const char *reason = NULL;
        g_autofree char *version = NULL;
        g_autofree char *cipher = NULL;
        int bits = 0;

        if (g_ascii_strcasecmp(field->name, TRACE_HEADER) != 0)
            continue;
        if (trace_header_verify(ring, field->value, queue_id, &version, &cipher, &bits, &reason)) {
            verdict->tls_version = evaluate_printable(version);
            verdict->tls_cipher = cipher != NULL ? evaluate_printable(cipher) : NULL;
            verdict->tls_bits = bits;
            verdict->tls_refused = NULL;
            return;
        }
        if (first_reason == NULL)
            first_reason = reason;
    }
    verdict->tls_refused = first_reason;
}

/* evaluate_is_blank - nothing but white space (ASCII or Unicode) */
static gboolean
evaluate_is_blank(const char *text)
{
    for (const char *p = text; p != NULL && *p != '\0'; p = g_utf8_next_char(p))
        if (!g_unichar_isspace(g_utf8_get_char(p)))
            return FALSE;
    return TRUE;
}

/* evaluate_set - set the exit status and the DSN text */
static void
evaluate_set(Verdict *verdict, int exit_status, char *status)
{
    verdict->exit_status = exit_status;
    g_free(verdict->status);
    verdict->status = status;
}

/* evaluate_message - see evaluate.h */
Verdict *
evaluate_message(const Config *config, const KeyRing *ring, GBytes *raw, const char *sender,
                 const char *recipient)
{
    return evaluate_message_full(config, ring, raw, sender, recipient, NULL);
}

/* evaluate_message_full - see evaluate.h */
Verdict *
evaluate_message_full(const Config *config, const KeyRing *ring, GBytes *raw, const char *sender,
                      const char *recipient, const char *queue_id)
{
    Verdict *verdict = g_new0(Verdict, 1);
    g_autoptr(GError) error = NULL;
    Message *message;

    message = message_parse(raw, &error);
    if (message == NULL) {
        g_autofree char *why = evaluate_printable(error != NULL ? error->message : "unknown");

        evaluate_set(verdict, 65, g_strdup_printf("5.6.0 %s", why));
        return verdict;
    }
    verdict->message = message;
    verdict->is_test = testmark_verify(ring, message->message_id);
    evaluate_tls(verdict, ring, message, queue_id);
    verdict->auto_submitted = autosubmit_reason((const HeaderField *)(void *)message->headers->data,
                                                message->headers->len, sender);
    verdict->have_key =
        keyfind_lookup(config, ring, recipient, (const HeaderField *)(void *)message->headers->data,
                       message->headers->len, &verdict->key, &verdict->key_source);

    if (verdict->auto_submitted != NULL) {
        g_autofree char *why = evaluate_printable(verdict->auto_submitted);

        evaluate_set(verdict, 77,
                     g_strdup_printf("5.7.1 auto-submitted mail is not accepted (%s)", why));
    } else if (!verdict->have_key) {
        evaluate_set(verdict, 67,
                     g_strdup("5.1.1 no valid reply key in the recipient or the headers"));
    } else if (evaluate_is_blank(message->reply_text) && message->attachments->len == 0) {
        evaluate_set(verdict, 65,
                     g_strdup("5.6.0 the reply is empty: write above the quoted text"));
    } else {
        evaluate_set(verdict, 0,
                     g_strdup_printf("2.0.0 reply accepted for %s-%" G_GUINT64_FORMAT
                                     "-%" G_GUINT64_FORMAT,
                                     verdict->key.kind, verdict->key.target, verdict->key.user));
    }
    return verdict;
}

/* verdict_new_refusal - see evaluate.h */
Verdict *
verdict_new_refusal(int exit_status, const char *status)
{
    Verdict *verdict = g_new0(Verdict, 1);

    evaluate_set(verdict, exit_status, evaluate_printable(status));
    return verdict;
}

/* evaluate_json_key - the "key" member's value */
static void
evaluate_json_key(GString *out, const Verdict *verdict)
{
    gboolean first = TRUE;

    if (!verdict->have_key) {
        g_string_append(out, "null");
        return;
    }
    g_string_append_c(out, '{');
    json_append_member(out, "kind", &first);
    json_append_string(out, verdict->key.kind);
    json_append_member(out, "target", &first);
    g_string_append_printf(out, "%" G_GUINT64_FORMAT, verdict->key.target);
    json_append_member(out, "user", &first);
    g_string_append_printf(out, "%" G_GUINT64_FORMAT, verdict->key.user);
    json_append_member(out, "source", &first);
    json_append_string(out, verdict->key_source);
    g_string_append_c(out, '}');
}

/* evaluate_json_attachments - the "attachments" member's value */
static void
evaluate_json_attachments(GString *out, const Message *message)
{
    g_string_append_c(out, '[');
    for (guint i = 0; message != NULL && i < message->attachments->len; i++) {
        const Attachment *a = g_ptr_array_index(message->attachments, i);
        gboolean first = TRUE;

        if (i > 0)
            g_string_append_c(out, ',');
        g_string_append_c(out, '{');
        json_append_member(out, "filename", &first);
        json_append_string(out, a->filename);
        json_append_member(out, "content_type", &first);
        json_append_string(out, a->content_type);
        json_append_member(out, "content_id", &first);
        json_append_string(out, a->content_id);
        json_append_member(out, "size", &first);
        g_string_append_printf(out, "%" G_GSIZE_FORMAT, g_bytes_get_size(a->data));
        json_append_member(out, "sha256", &first);
        json_append_string(out, a->sha256);
        json_append_member(out, "inline", &first);
        g_string_append(out, a->is_inline ? "true" : "false");
        g_string_append_c(out, '}');
    }
    g_string_append_c(out, ']');
}

/* evaluate_json_message - the members that come from the message */
static void
evaluate_json_message(GString *out, const Message *m, gboolean *first)
{
    json_append_member(out, "message_id", first);
    json_append_string(out, m != NULL ? m->message_id : NULL);
    json_append_member(out, "subject", first);
    json_append_string(out, m != NULL ? m->subject : NULL);
    json_append_member(out, "date", first);
    if (m != NULL && m->date != NULL) {
        g_autoptr(GDateTime) utc = g_date_time_to_utc(m->date);
        g_autofree char *text = utc != NULL ? g_date_time_format(utc, "%Y-%m-%dT%H:%M:%SZ") : NULL;

        json_append_string(out, text);
    } else {
        json_append_string(out, NULL);
    }
    json_append_member(out, "from", first);
    if (m != NULL && (m->from_name != NULL || m->from_address != NULL)) {
        gboolean inner = TRUE;

        g_string_append_c(out, '{');
        json_append_member(out, "name", &inner);
        json_append_string(out, m->from_name);
        json_append_member(out, "address", &inner);
        json_append_string(out, m->from_address);
        g_string_append_c(out, '}');
    } else {
        g_string_append(out, "null");
    }
    json_append_member(out, "in_reply_to", first);
    json_append_string(out, m != NULL ? m->in_reply_to : NULL);
    json_append_member(out, "references", first);
    g_string_append_c(out, '[');
    for (guint i = 0; m != NULL && i < m->references->len; i++) {
        if (i > 0)
            g_string_append_c(out, ',');
        json_append_string(out, g_ptr_array_index(m->references, i));
    }
    g_string_append_c(out, ']');
}

/* verdict_to_json - see evaluate.h */
char *
verdict_to_json(const Verdict *verdict)
{
    GString *out = g_string_new("{");
    const Message *m = verdict->message;
    gboolean first = TRUE;

    evaluate_json_message(out, m, &first);
    json_append_member(out, "key", &first);
    evaluate_json_key(out, verdict);
    json_append_member(out, "auto_submitted", &first);
    json_append_string(out, verdict->auto_submitted);
    json_append_member(out, "body_text", &first);
    json_append_string(out, m != NULL ? m->body_text : NULL);
    json_append_member(out, "reply_text", &first);
    json_append_string(out, m != NULL ? m->reply_text : NULL);
    json_append_member(out, "quoted_text", &first);
    json_append_string(out, m != NULL ? m->quoted_text : NULL);
    json_append_member(out, "body_html", &first);
    json_append_string(out, m != NULL ? m->body_html : NULL);
    json_append_member(out, "attachments", &first);
    evaluate_json_attachments(out, m);
    json_append_member(out, "tls", &first);
    if (verdict->tls_version != NULL || verdict->tls_cipher != NULL) {
        gboolean inner = TRUE;

        g_string_append_c(out, '{');
        json_append_member(out, "version", &inner);
        json_append_string(out, verdict->tls_version);
        json_append_member(out, "cipher", &inner);
        json_append_string(out, verdict->tls_cipher);
        json_append_member(out, "bits", &inner);
        g_string_append_printf(out, "%d", verdict->tls_bits);
        g_string_append_c(out, '}');
    } else {
        g_string_append(out, "null");
    }
    json_append_member(out, "warnings", &first);
    g_string_append_c(out, '[');
    for (guint i = 0; m != NULL && i < m->warnings->len; i++) {
        if (i > 0)
            g_string_append_c(out, ',');
        json_append_string(out, g_ptr_array_index(m->warnings, i));
    }
    g_string_append_c(out, ']');
    json_append_member(out, "status", &first);
    json_append_string(out, verdict->status);
    json_append_member(out, "exit", &first);
    g_string_append_printf(out, "%d", verdict->exit_status);
    g_string_append_c(out, '}');
    return g_string_free(out, FALSE);
}

/* verdict_free - see evaluate.h */
void
verdict_free(Verdict *verdict)
{
    if (verdict == NULL)
        return;
    message_free(verdict->message);
    g_free(verdict->auto_submitted);
    g_free(verdict->tls_version);
    g_free(verdict->tls_cipher);
    g_free(verdict->status);
    g_free(verdict);
}
