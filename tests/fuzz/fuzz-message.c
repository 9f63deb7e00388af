/*
 * fuzz-message.c - libFuzzer target: raw bytes to a reply.
 *
 * The input is a whole message. It goes through evaluate_message() (GMime
 * parsing, the MIME walk, charset conversion, the auto-submitted rules, the
 * key lookup of SPEC section 3, trim_reply() and html_to_text()) and the
 * verdict is turned into the --dry-run JSON. The same bytes, made valid
 * UTF-8, are also given straight to trim_reply() and html_to_text(), so the
 * cutting code sees inputs no parser would hand it.
 */
#include <glib.h>

#include "evaluate.h"
#include "fuzz-common.h"
#include "trim.h"

/* LLVMFuzzerTestOneInput - one message */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GBytes) raw = g_bytes_new(data, size);
    g_autoptr(Verdict) verdict = NULL;
    g_autofree char *json = NULL;
    g_autofree char *text = NULL;
    g_autofree char *reply = NULL;
    g_autofree char *quoted = NULL;
    g_autofree char *html = NULL;
    g_autofree char *html_quoted = NULL;
    g_autofree char *plain = NULL;

    fuzz_setup();
    verdict = evaluate_message(fuzz_config, fuzz_ring, raw, "bob@example.org",
                               "reply@reply.example.com");
    json = verdict_to_json(verdict);
    if (json == NULL || !g_utf8_validate(json, -1, NULL))
        abort(); /* the JSON must always be valid UTF-8 */

    text = g_utf8_make_valid((const char *)data, (gssize)size);
    trim_reply(text, &reply, &quoted);
    if (reply == NULL || quoted == NULL)
        abort();
    html = html_to_text((const char *)data, size, &html_quoted);
    plain = html_to_text((const char *)data, size, NULL);
    if (html == NULL || plain == NULL)
        abort();
    return 0;
}
