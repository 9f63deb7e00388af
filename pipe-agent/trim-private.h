/*
 * trim-private.h - the language tables behind trim_reply() and
 * html_to_text(): quote headers, Outlook header keys, "Original Message"
 * and forward markers (trim-lang.c); device signatures, closing phrases,
 * contact lines and delimiter lines (trim-sig.c); in sixteen languages.
 *
 * Every matcher looks at one short, already isolated piece of text and runs
 * in time linear in its length; none of them uses a regular expression.
 */
#ifndef RG_TRIM_PRIVATE_H
#define RG_TRIM_PRIVATE_H

#include <glib.h>

/* Longest line (bytes) that the matchers look at; longer lines are text. */
#define TRIM_LANG_MAX_LINE 400

typedef enum {
    TRIM_KEY_NONE = 0,
    TRIM_KEY_FROM,
    TRIM_KEY_SENT,
    TRIM_KEY_TO,
    TRIM_KEY_SUBJECT,
    TRIM_KEY_CC,
    TRIM_KEY_DATE, /* "Date:", "Datum:", ...: a block's date, but also any plan's */
} TrimKey;

typedef enum {
    TRIM_RULE_NONE = 0,
    TRIM_RULE_ORIGINAL,   /* -----Original Message----- and translations */
    TRIM_RULE_FORWARD,    /* ---------- Forwarded message ---------, Begin forwarded message: */
    TRIM_RULE_UNDERSCORE, /* ________________________________ */
} TrimRule;

typedef enum {
    TRIM_DELIM_NONE = 0,
    TRIM_DELIM_RULE, /* "-----", "_____", "*****", "=====", "~~~", "###", "+++" */
    TRIM_DELIM_MARK, /* Gmail's tracking mark "ᐧ" */
} TrimDelim;

/* Most lines a wrapped quote header may take. */
#define TRIM_HEADER_MAX_LINES 6

/* trim_lang_normalize - copy a line into out: NBSP, narrow NBSP, zero-width
 * spaces, the byte order mark and the ideographic space become spaces, the fullwidth colon becomes
 * ':', runs of spaces shrink to one, both ends are trimmed. */
void trim_lang_normalize(GString *out, const char *s, gsize len);

/* trim_lang_is_quote_header - is the normalized text an "On ... wrote:"
 * header in one of the sixteen languages? */
gboolean trim_lang_is_quote_header(const char *s, gsize len);

/* trim_lang_is_header_start - does the normalized line open like a quote
 * header (a lead word such as "On ", a digit, or "<...@...>")? */
gboolean trim_lang_is_header_start(const char *s, gsize len);

/* trim_lang_is_weak_header - is the normalized header text only Gmail's
 * old colon-less "2013/7/20 Jane <addr>" form, which counts before a quote? */
gboolean trim_lang_is_weak_header(const char *s, gsize len);

/* trim_lang_is_header_lead - does the normalized line open with a lead word
 * ("On ", "Am ", ...) or a weekday: a header start that is no digit? */
gboolean trim_lang_is_header_lead(const char *s, gsize len);

/* trim_lang_header_key - which Outlook header key starts the normalized line? */
TrimKey trim_lang_header_key(const char *s, gsize len);

/* trim_lang_rule - is the normalized line an Original Message, forward or
 * underscore rule? */
TrimRule trim_lang_rule(const char *s, gsize len);

/* trim_lang_is_mobile_signature - is the normalized line a mobile or app
 * signature ("Sent from my iPhone", "iPhoneから送信", "<<sent by galaxy>>",
 * "(Sent from mobile device)", ...)? (trim-sig.c) */
gboolean trim_lang_is_mobile_signature(const char *s, gsize len);

/* trim_lang_is_closing - does the normalized line close a letter ("Best
 * regards,", "Mit freundlichen Grüßen", "С уважением")? (trim-sig.c) */
gboolean trim_lang_is_closing(const char *s, gsize len);

/* trim_lang_is_contact - is the normalized line a link, a mail address or a
 * telephone number, as a signature's contact lines are? (trim-sig.c) */
gboolean trim_lang_is_contact(const char *s, gsize len);

/* trim_lang_is_disclaimer - is the normalized line part of a
 * confidentiality notice? (trim-sig.c) */
gboolean trim_lang_is_disclaimer(const char *s, gsize len);

/* trim_lang_delimiter - is the normalized line a delimiter line: only
 * '-', '_', '*', '=', '~', '#' or '+' (three or more), or Gmail's tracking
 * mark? (trim-sig.c) */
TrimDelim trim_lang_delimiter(const char *s, gsize len);

#endif
