/*
 * evaluate.c - the agent's decision about one message (SPEC sections 3 to 5).
 *
 * The order is: parse (65 5.6.0 when the bytes are no message, 5.3.4 over a
 * structural limit), a recipient in no reply domain (75 4.3.5, a configuration
 * mistake), require_tls without TLS (77 5.7.0, tls-evidence.h), auto-submitted
 * (77 5.7.1), key (67 5.1.1; 75 4.3.5 when the
 * milter's verified trace header says it let this recipient through),
 * sender_policy (77 5.7.1, auth.c), empty reply (65 5.6.0; never for a kind
 * in action_kinds), else 0 2.0.0. The key is
 * looked up even for an auto-submitted message, so --dry-run shows it. A reply
 * that is only an attachment is a reply: it is empty only when it has no text
 * and no attachment. No I/O here: deliver.c stores or prints the verdict, and
 * runs the from check, which needs the database.
 */
#include <string.h>

#include "evaluate.h"
#include "json.h"
#include "keyfind.h"
#include "rg-error.h"
#include "tls-evidence.h"
#include "testmark.h"

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

/* evaluate_tls - the TLS the reply arrived with (tls-evidence.h): the
 * milter's verified trace header, else the Received header of this Postfix */
static void
evaluate_tls(Verdict *verdict, const Config *config, const KeyRing *ring, const Message *message,
             const char *queue_id)
{
    TlsEvidence evidence;

    tls_evidence(config, ring, message, queue_id, &evidence);
    verdict->tls_trace = evidence.trace;
    verdict->tls_version = g_steal_pointer(&evidence.version);
    verdict->tls_cipher = g_steal_pointer(&evidence.cipher);
    verdict->tls_bits = evidence.bits;
    verdict->tls_refused = evidence.refused;
    verdict->tls_note = evidence.note;
    verdict->tls_missing = evidence.missing;
    tls_evidence_clear(&evidence);
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
    g_autofree char *refusal = NULL;
    Message *message;

    message = message_parse(raw, &error);
    if (message == NULL) {
        g_autofree char *why = evaluate_printable(error != NULL ? error->message : "unknown");

        /* Over a structural cap (rg-limits.h): too big in another sense. */
        if (error != NULL && g_error_matches(error, RG_ERROR, RG_ERROR_TOOBIG))
            evaluate_set(verdict, 65, g_strdup_printf("5.3.4 message too complex: %s", why));
        else
            evaluate_set(verdict, 65, g_strdup_printf("5.6.0 %s", why));
        return verdict;
    }
    verdict->message = message;
    verdict->from_verified = verdict->sender_verified = -1;
    verdict->is_test = testmark_verify(ring, message->message_id);
    evaluate_tls(verdict, config, ring, message, queue_id);
    verdict->auto_submitted = autosubmit_reason((const HeaderField *)(void *)message->headers->data,
                                                message->headers->len, sender);
    verdict->have_key =
        keyfind_lookup(config, ring, recipient, (const HeaderField *)(void *)message->headers->data,
                       message->headers->len, &verdict->key, &verdict->key_source);
    verdict->auth = auth_results_read(config, (const HeaderField *)(void *)message->headers->data,
                                      message->headers->len, message->from_address);
    verdict->action = verdict->have_key && config_is_action_kind(config, verdict->key.kind);

    /* Configuration mistakes defer (SPEC section 5, issue 13 item 5): Postfix
     * routed here a recipient that no reply domain names (a typo in
     * reply_domain, or an agent reading another file than Postfix's routing
     * assumes); or the milter, whose trace header verifies for this queue id,
     * let a recipient through whose key the agent cannot verify (the two
     * read different secrets, prefixes or domains). */
    if (address_classify(config, ring, recipient, NULL, NULL) == ADDRESS_FOREIGN) {
        g_autofree char *rcpt = evaluate_printable(recipient);
        g_autoptr(GString) domains = g_string_new(NULL);

        for (guint i = 0; i < config->reply_domains->len; i++)
            g_string_append_printf(domains, "%s%s", i > 0 ? " " : "",
                                   (const char *)g_ptr_array_index(config->reply_domains, i));
        evaluate_set(verdict, 75,
                     g_strdup_printf("4.3.5 configuration error: the recipient <%s> is in none of "
                                     "the reply domains (%s)",
                                     rcpt, domains->str));
    } else if (verdict->tls_missing != NULL) {
        /* The milter refuses these at RCPT; one that passed it by fails here
         * (issue 14), and mail.log names the cause. */
        evaluate_set(verdict, 77,
                     g_strdup("5.7.0 this address accepts replies sent over TLS only"));
    } else if (verdict->auto_submitted != NULL) {
        g_autofree char *why = evaluate_printable(verdict->auto_submitted);

        evaluate_set(verdict, 77,
                     g_strdup_printf("5.7.1 auto-submitted mail is not accepted (%s)", why));
    } else if (!verdict->have_key && verdict->tls_trace) {
        evaluate_set(verdict, 75,
                     g_strdup("4.3.5 configuration error: the milter accepted this recipient but "
                              "the agent cannot verify its key"));
    } else if (!verdict->have_key) {
        evaluate_set(verdict, 67,
                     g_strdup("5.1.1 no valid reply key in the recipient or the headers"));
    } else if ((refusal = auth_policy_refusal(config, verdict->auth)) != NULL) {
        evaluate_set(verdict, 77, evaluate_printable(refusal));
    } else if (!verdict->action && evaluate_is_blank(message->reply_text) &&
               message->attachments->len == 0) {
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

    verdict->from_verified = verdict->sender_verified = -1;
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

/* evaluate_json_tristate - 1, 0, -1 as true, false, null */
static void
evaluate_json_tristate(GString *out, int value)
{
    g_string_append(out, value > 0 ? "true" : value == 0 ? "false" : "null");
}

/* evaluate_json_auth - the "auth" member's value: null when authserv_id is
 * unset (nothing was checked), else what our verifiers recorded */
static void
evaluate_json_auth(GString *out, const AuthResults *auth)
{
    gboolean first = TRUE;

    if (auth == NULL || auth->authserv_id == NULL) {
        g_string_append(out, "null");
        return;
    }
    g_string_append_c(out, '{');
    json_append_member(out, "authserv_id", &first);
    json_append_string(out, auth->authserv_id);
    json_append_member(out, "spf", &first);
    json_append_string(out, auth->spf);
    json_append_member(out, "spf_domain", &first);
    json_append_string(out, auth->spf_domain);
    json_append_member(out, "dkim", &first);
    json_append_string(out, auth->dkim);
    json_append_member(out, "dkim_domain", &first);
    json_append_string(out, auth->dkim_domain);
    json_append_member(out, "dmarc", &first);
    json_append_string(out, auth->dmarc);
    json_append_member(out, "dmarc_domain", &first);
    json_append_string(out, auth->dmarc_domain);
    json_append_member(out, "from_domain", &first);
    json_append_string(out, auth->from_domain);
    json_append_member(out, "aligned", &first);
    evaluate_json_tristate(out, auth->aligned);
    json_append_member(out, "ignored", &first);
    json_append_string(out, auth->ignored);
    g_string_append_c(out, '}');
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
    json_append_member(out, "auth", &first);
    evaluate_json_auth(out, verdict->auth);
    json_append_member(out, "from_verified", &first);
    evaluate_json_tristate(out, verdict->from_verified);
    json_append_member(out, "sender_verified", &first);
    evaluate_json_tristate(out, verdict->sender_verified);
    json_append_member(out, "action", &first);
    g_string_append(out, verdict->action ? "true" : "false");
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
    auth_results_free(verdict->auth);
    g_free(verdict->auto_submitted);
    g_free(verdict->tls_version);
    g_free(verdict->tls_cipher);
    g_free(verdict->status);
    g_free(verdict);
}
