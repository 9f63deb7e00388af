/*
 * test-received.c - the Received header Postfix itself adds (received.h),
 * parsed strictly (issue 14).
 *
 * Table-driven: the headers a real Postfix 3.7 wrote in the test stack
 * (smtpd with and without TLS, pickup), their variants (ESMTPSA with a SASL
 * note, a client port, IPv6, UTF8SMTPS, no using clause), and what must not
 * pass as Postfix's: another MTA's header, a using clause without a TLS
 * protocol, two using clauses, a changed mail_name, a header cut short.
 */
#include <string.h>

#include "received.h"
#include "testutil.h"

static const struct {
    const char *label;
    const char *value;
    ReceivedKind kind;
    const char *want; /* "by id proto client tls version cipher bits" or "by id uid" */
} cases[] = {
    {"smtpd with TLS (Postfix 3.7)",
     "from vm (unknown [127.0.0.1])\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 "
     "(256/256 bits)\n\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest "
     "SHA256)\n\t(No client certificate requested)\n\tby localhost (Postfix) with ESMTPS id "
     "374A8A7C028\n\tfor <reply+i-1-d2240d5a5cdff46f1f290f8f97074b7a6e95003e-5@reply.localhost>; "
     "Sun,  6 Dec 2026 06:38:09 +0000 (UTC)",
     RECEIVED_SMTPD, "localhost 374A8A7C028 ESMTPS 127.0.0.1 1 TLSv1.3 TLS_AES_256_GCM_SHA384 256"},
    {"smtpd with TLS, unfolded",
     "from mail.example.org (mail.example.org [192.0.2.10])\t(using TLSv1.2 with cipher "
     "ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits))\t(No client certificate requested)\tby "
     "mx.example.com (Postfix) with ESMTPS id 4F2A21041E3\tfor <r@reply.example.com>; Sat, 21 Nov "
     "2026 15:13:00 +0100 (CET)",
     RECEIVED_SMTPD,
     "mx.example.com 4F2A21041E3 ESMTPS 192.0.2.10 1 TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384 256"},
    {"smtpd without TLS",
     "from vm (unknown [127.0.0.1])\n\tby localhost (Postfix) with ESMTP id 2E866A781DE\n\tfor "
     "<r@reply.localhost>; Sun,  6 Dec 2026 06:38:51 +0000 (UTC)",
     RECEIVED_SMTPD, "localhost 2E866A781DE ESMTP 127.0.0.1 0   0"},
    {"smtpd, no for clause",
     "from vm (unknown [127.0.0.1]) by localhost (Postfix) with SMTP id 2E866A781DE; Sun, 6 Dec",
     RECEIVED_SMTPD, "localhost 2E866A781DE SMTP 127.0.0.1 0   0"},
    {"ESMTPSA with a SASL note and a client port",
     "from h (h.example.org [192.0.2.7]:51234) (using TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 "
     "(128/128 bits)) (Authenticated sender: bob) by mx (Postfix) with ESMTPSA id ABC for <r@x>; "
     "d",
     RECEIVED_SMTPD, "mx ABC ESMTPSA 192.0.2.7 1 TLSv1.3 TLS_AES_128_GCM_SHA256 128"},
    {"IPv6 client, UTF8SMTPS",
     "from h (h.example.org [IPv6:2001:db8::1]) (using TLSv1.3 with cipher X (256/256 bits)) by "
     "mx (Postfix) with UTF8SMTPS id Q1; d",
     RECEIVED_SMTPD, "mx Q1 UTF8SMTPS IPv6:2001:db8::1 1 TLSv1.3 X 256"},
    {"ESMTPS without a using clause (smtpd_tls_received_header = no)",
     "from h (h [192.0.2.1]) by mx (Postfix) with ESMTPS id Q2 for <r@x>; d", RECEIVED_SMTPD,
     "mx Q2 ESMTPS 192.0.2.1 1   0"},
    {"pickup (sendmail)",
     "by localhost (Postfix, from userid 0)\n\tid 48B99A785A3; Sun,  6 Dec 2026 06:38:51 +0000 "
     "(UTC)",
     RECEIVED_PICKUP, "localhost 48B99A785A3 0"},
    {"pickup after postsuper -r", "by localhost (Postfix, from userid 102) id 90E6DA78194; d",
     RECEIVED_PICKUP, "localhost 90E6DA78194 102"},
    {"another MTA",
     "from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41]) by mx.google.com "
     "with SMTPS id x; Sat, 21 Nov 2026",
     RECEIVED_OTHER, NULL},
    {"a using clause without a TLS protocol",
     "from h (h [192.0.2.1]) (using TLSv1.3 with cipher X (256/256 bits)) by mx (Postfix) with "
     "ESMTP id Q; d",
     RECEIVED_OTHER, NULL},
    {"two using clauses (text from a certificate name)",
     "from h (h [192.0.2.1]) (using TLSv1.3 with cipher X (256/256 bits)) (Client CN \"a\") "
     "(using SSLv2 with cipher Y (1/1 bits)) by mx (Postfix) with ESMTPS id Q; d",
     RECEIVED_OTHER, NULL},
    {"another mail_name", "from h (h [192.0.2.1]) by mx (Exim) with ESMTPS id Q; d", RECEIVED_OTHER,
     NULL},
    {"cut short", "from h (h [192.0.2.1]) by mx (Postfix) with ESMTPS", RECEIVED_OTHER, NULL},
    {"no date", "from h (h [192.0.2.1]) by mx (Postfix) with ESMTPS id Q", RECEIVED_OTHER, NULL},
    {"two words for the HELO", "from a b (h [192.0.2.1]) by mx (Postfix) with ESMTPS id Q; d",
     RECEIVED_OTHER, NULL},
    {"pickup with a word too many", "by mx (Postfix, from userid 0 x) id Q; d", RECEIVED_OTHER,
     NULL},
    {"pickup with a protocol", "by mx (Postfix, from userid 0) with ESMTPS id Q; d", RECEIVED_OTHER,
     NULL},
    {"empty", "", RECEIVED_OTHER, NULL},
};

/* test_parse - every case of the table */
static void
test_parse(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        ReceivedInfo info;
        gboolean ok = received_parse(cases[i].value, &info);
        g_autofree char *got = NULL;

        if (info.kind != cases[i].kind || ok != (cases[i].kind != RECEIVED_OTHER)) {
            test_failf("%s: got kind %d (%d), want %d", cases[i].label, info.kind, ok,
                       cases[i].kind);
            continue;
        }
        if (cases[i].want == NULL)
            continue;
        if (info.kind == RECEIVED_PICKUP)
            got = g_strdup_printf("%s %s %ld", info.by, info.queue_id, info.uid);
        else
            got = g_strdup_printf("%s %s %s %s %d %s %s %d", info.by, info.queue_id, info.proto,
                                  info.client, info.tls, info.version, info.cipher, info.bits);
        if (strcmp(got, cases[i].want) != 0)
            test_failf("%s: got \"%s\", want \"%s\"", cases[i].label, got, cases[i].want);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/received/parse", test_parse);
    return g_test_run();
}
