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

/* counters_write - the text file, through a temporary file and a rename.
 * Everything is done through the folder's descriptor, opened without
 * following a link: the spool belongs to replygate, and a milter running as
 * root must not write where a link planted there points. */
gboolean
counters_write(const char *spool_directory, GError **error)
{
    g_autofree char *dir = g_build_filename(spool_directory, "metrics", NULL);
    g_autofree char *tmp = g_strdup_printf("milter.prom.%ld.tmp", (long)getpid());
    g_autofree char *text = counters_text();
    gsize len = strlen(text);
    gboolean made = FALSE;
    int dirfd = -1;
    int fd = -1;
    const char *what;

    if (mkdir(dir, 0755) == 0)
        made = TRUE;
    else if (errno != EEXIST) {
        what = "make";
        goto failed;
    }
    dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    /* 0755 whatever the umask: `replygate metrics` may run as another user. */
    if (dirfd < 0 || (made && fchmod(dirfd, 0755) != 0)) {
        what = "open";
        goto failed;
    }
    unlinkat(dirfd, tmp, 0);
    fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    what = "write in";
    if (fd < 0 || write(fd, text, len) != (ssize_t)len || fchmod(fd, 0644) != 0)
        goto failed;
    if (close(fd) != 0) {
        fd = -1;
        goto failed;
    }
    fd = -1;
    if (renameat(dirfd, tmp, dirfd, "milter.prom") != 0) {
        what = "rename in";
        goto failed;
    }
    close(dirfd);
    return TRUE;

failed:
    g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot %s %s: %s", what, dir,
                g_strerror(errno));
    if (fd >= 0)
        close(fd);
    if (dirfd >= 0) {
        unlinkat(dirfd, tmp, 0);
        close(dirfd);
    }
    return FALSE;
}
