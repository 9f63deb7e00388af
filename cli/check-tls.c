/*
 * check-tls.c - the TLS part of `replygate check`: smtpd's certificate and
 * key, named by postconf(1), must be readable PEM, belong together, be valid
 * now and for CHECK_CERT_DAYS more, and name myhostname.
 */
#include <errno.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <time.h>

#include "check.h"

/* A certificate that expires sooner than this fails the check. */
#define CHECK_CERT_DAYS 14

G_DEFINE_AUTOPTR_CLEANUP_FUNC(X509, X509_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(EVP_PKEY, EVP_PKEY_free)

/* check_tls - smtpd's certificate and key: readable, a pair, valid today and
 * for CHECK_CERT_DAYS more, naming myhostname */
void
check_tls(Check *check)
{
    g_autofree char *cert_file = check_postconf(check, "-xh", "smtpd_tls_cert_file", NULL);
    g_autofree char *key_file = check_postconf(check, "-xh", "smtpd_tls_key_file", NULL);
    g_autofree char *host = check_postconf(check, "-xh", "myhostname", NULL);
    g_autoptr(X509) cert = NULL;
    g_autoptr(EVP_PKEY) key = NULL;
    const char *fix = "set smtpd_tls_cert_file and smtpd_tls_key_file to a certificate for "
                      "myhostname and its key";
    time_t soon = time(NULL) + CHECK_CERT_DAYS * 86400;
    FILE *fp;

    if (cert_file == NULL || *cert_file == '\0') {
        check_report(check, "FAIL", fix,
                     "Postfix has no smtpd_tls_cert_file: STARTTLS is not offered");
        return;
    }
    if ((fp = fopen(cert_file, "r")) == NULL) {
        check_report(check, "FAIL", fix, "TLS certificate %s cannot be read: %s", cert_file,
                     g_strerror(errno));
        return;
    }
    cert = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    if (cert == NULL) {
        check_report(check, "FAIL", fix, "TLS certificate %s is not a PEM certificate", cert_file);
        return;
    }
    if (key_file == NULL || *key_file == '\0')
        key_file = g_strdup(cert_file);
    if ((fp = fopen(key_file, "r")) == NULL) {
        check_report(check, "FAIL", fix, "TLS key %s cannot be read: %s", key_file,
                     g_strerror(errno));
        return;
    }
    key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
    fclose(fp);
    if (key == NULL || X509_check_private_key(cert, key) != 1) {
        check_report(check, "FAIL", fix, "TLS key %s is not the key of certificate %s", key_file,
                     cert_file);
        return;
    }
    if (X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0)
        check_report(check, "FAIL", fix, "TLS certificate %s is not valid yet", cert_file);
    else if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0)
        check_report(check, "FAIL", fix, "TLS certificate %s has expired", cert_file);
    else if (X509_cmp_time(X509_get0_notAfter(cert), &soon) <= 0)
        check_report(check, "FAIL", "renew the certificate",
                     "TLS certificate %s expires within %d days", cert_file, CHECK_CERT_DAYS);
    else if (host == NULL || X509_check_host(cert, host, 0, 0, NULL) != 1)
        check_report(check, "FAIL", fix, "TLS certificate %s does not name the host %s", cert_file,
                     host ? host : "(unknown myhostname)");
    else
        check_report(
            check, "OK", NULL,
            "TLS certificate %s and key readable, valid for %d days more at least, names %s",
            cert_file, CHECK_CERT_DAYS, host);
}
