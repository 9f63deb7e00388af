/*
 * fuzz-autosubmit.c - libFuzzer target: the auto-submitted rules.
 *
 * The first line of the input is the envelope sender ("-" for unknown), the
 * rest are header lines "Name: value"; a line starting with white space
 * continues the previous value, a line without a colon is a name with an
 * empty value. autosubmit_reason() must not crash, and a reason it gives
 * must be one printable line, since it goes into SMTP replies and logs.
 */
#include <glib.h>

#include "autosubmit.h"
#include "fuzz-common.h"

/* LLVMFuzzerTestOneInput - one envelope sender and header block */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = g_strndup((const char *)data, size);
    g_auto(GStrv) lines = g_strsplit(text, "\n", 2048);
    g_autoptr(GArray) headers = g_array_new(FALSE, FALSE, sizeof(HeaderField));
    g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *reason = NULL;
    const char *sender = NULL;

    if (lines[0] == NULL)
        return 0;
    if (strcmp(lines[0], "-") != 0)
        sender = lines[0];
    for (int i = 1; lines[i] != NULL; i++) {
        const char *line = lines[i];
        const char *colon = strchr(line, ':');
        HeaderField field;

        if ((*line == ' ' || *line == '\t') && headers->len > 0) {
            HeaderField *last = &g_array_index(headers, HeaderField, headers->len - 1);
            char *joined = g_strconcat(last->value, "\n", line, NULL);

            g_ptr_array_add(owned, joined);
            last->value = joined;
            continue;
        }
        if (colon != NULL) {
            char *name = g_strndup(line, (gsize)(colon - line));

            g_ptr_array_add(owned, name);
            field.name = name;
            field.value = colon + 1;
        } else {
            field.name = line;
            field.value = "";
        }
        g_array_append_val(headers, field);
    }
    reason = autosubmit_reason((const HeaderField *)(void *)headers->data, headers->len, sender);
    if (reason != NULL) {
        for (const char *p = reason; *p != '\0'; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                abort(); /* a control character would reach an SMTP reply */
    }
    return 0;
}
