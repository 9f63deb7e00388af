/*
 * trim-lines.h - the lines of a reply as trim.c cuts them, each classified
 * once by trim-lines.c. Private to the trimmer.
 */
#ifndef RG_TRIM_LINES_H
#define RG_TRIM_LINES_H

#include <glib.h>

typedef struct {
    const char *s;
    guint32 len;
    guint16 depth;      /* number of leading '>' */
    guint8 code : 1;    /* inside (or on) a fenced code block */
    guint8 blank : 1;   /* only white space, outside code */
    guint8 keep : 1;    /* an inline quote the author wrote (HTML <blockquote>) */
    guint8 weak : 1;    /* the header counts only before a '>' quote */
    guint8 delim : 2;   /* TrimDelim */
    guint8 sig;         /* 1 for "-- ", 2 for "--" */
    guint8 header_span; /* 1 to TRIM_HEADER_MAX_LINES: an "On ... wrote:" header starts here */
    guint8 key;         /* TrimKey */
    guint8 rule;        /* TrimRule */
} Line;

/* trim_lines_split - cut text into lines (a new array of Line pointing into
 * text) without their "\r\n" or "\n"; keep[i] (when i < n_keep) marks line
 * i as an inline quote the author wrote */
GArray *trim_lines_split(const char *text, const guint8 *keep, gsize n_keep);

/* trim_lines_classify - fill in every line's code, depth, blank, signature,
 * delimiter, key and rule marks, then the quote header spans */
void trim_lines_classify(Line *lines, guint n);

#endif
