/*
 * counters.c - decision counters and their Prometheus text file (counters.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "counters.h"
#include "rg-error.h"

/* In the order of Decision. */
static const char *const decision_names[DECISION_N] = {
    "accept",
    "fold",
    "non_smtp",
    "reject_tls",
    "reject_key",
    "defer_recipients",
    "defer_rate_key",
    "defer_rate_sender",
    "reject_auto_submitted",
    "discard_auto_submitted",
    "remove_auto_submitted",
    "reject_keyless",
    "remove_keyless",
    "discard_noreply",
    "remove_noreply",
    "strip_headers",
    "tempfail",
};

static guint64 decision_counts[DECISION_N];

/* counters_add - one more decision of this result */
void
counters_add(Decision decision)
{
    if (decision < DECISION_N)
        __atomic_add_fetch(&decision_counts[decision], 1, __ATOMIC_RELAXED);
}

/* counters_get - the count of one result */
guint64
counters_get(Decision decision)
{
    return decision < DECISION_N ? __atomic_load_n(&decision_counts[decision], __ATOMIC_RELAXED)
                                 : 0;
}

/* counters_name - the result label of a decision */
const char *
counters_name(Decision decision)
{
    return decision < DECISION_N ? decision_names[decision] : "unknown";
}

/* counters_text - every counter in Prometheus' text format */
char *
counters_text(void)
{
    GString *text = g_string_new(NULL);

    g_string_append(text, "# HELP " COUNTERS_METRIC
                          " Decisions of replygate-milter since it started, by result.\n"
                          "# TYPE " COUNTERS_METRIC " counter\n");
    for (int d = 0; d < DECISION_N; d++)
        g_string_append_printf(text, COUNTERS_METRIC "{result=\"%s\"} %" G_GUINT64_FORMAT "\n",
                               decision_names[d], counters_get((Decision)d));
    return g_string_free(text, FALSE);
}

/* counters_write - the text file, through a temporary file and a rename */
gboolean
counters_write(const char *spool_directory, GError **error)
{
    g_autofree char *dir = g_build_filename(spool_directory, "metrics", NULL);
    g_autofree char *path = g_build_filename(dir, "milter.prom", NULL);
    g_autofree char *tmp = g_strdup_printf("%s.%ld.tmp", path, (long)getpid());
    g_autofree char *text = counters_text();
    gsize len = strlen(text);
    int fd;

    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot make %s: %s", dir,
                    g_strerror(errno));
        return FALSE;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot write %s: %s", tmp,
                    g_strerror(errno));
        return FALSE;
    }
    /* 0644 whatever the umask: `replygate metrics` may run as another user. */
    if (write(fd, text, len) != (ssize_t)len || fchmod(fd, 0644) != 0 || close(fd) != 0) {
        int saved = errno;
        close(fd);
        unlink(tmp);
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot write %s: %s", tmp,
                    g_strerror(saved));
        return FALSE;
    }
    if (rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot rename %s: %s", tmp,
                    g_strerror(saved));
        return FALSE;
    }
    return TRUE;
}
