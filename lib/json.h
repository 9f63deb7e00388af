/*
 * json.h - the little JSON writing that --dry-run, verify and replies need.
 *
 * Values are appended to a GString; strings are escaped as RFC 8259 asks and
 * invalid UTF-8 is replaced, so the output is always valid JSON.
 */
#ifndef RG_JSON_H
#define RG_JSON_H

#include <glib.h>

/* json_append_string - append text as a JSON string, or null when text is NULL */
void json_append_string(GString *out, const char *text);

/* json_append_string_len - the same for len bytes that may hold NULs */
void json_append_string_len(GString *out, const char *text, gsize len);

/* json_append_member - append "name": (no value), with a comma before unless first */
void json_append_member(GString *out, const char *name, gboolean *first);

#endif
