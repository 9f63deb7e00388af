/*
 * seen.c - the duplicate filter that Postfix's own misses (see seen.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "message.h"
#include "seen.h"

/* What a finished marker holds. */
#define SEEN_MARK "done\n"

struct Seen {
    int fd;
    char *path;
    gboolean settled;
};

/* seen_day - the folder name of a day: YYYYMMDD, days_ago before today (UTC) */
static char *
seen_day(int days_ago)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autoptr(GDateTime) day = g_date_time_add_days(now, -days_ago);

    return g_date_time_format(day, "%Y%m%d");
}

/* seen_key - the marker's name: SHA-256 over queue id, recipient (lower
 * case) and the SHA-256 of the bytes, NUL-separated */
static char *
seen_key(const char *queue_id, const char *recipient, GBytes *raw)
{
    gsize len;
    const void *data = g_bytes_get_data(raw, &len);
    g_autofree char *raw_sha = message_sha256_hex(data, len);
    g_autofree char *rcpt = g_ascii_strdown(recipient != NULL ? recipient : "", -1);
    g_autoptr(GString) text = g_string_new(queue_id);

    g_string_append_c(text, '\0');
    g_string_append(text, rcpt);
    g_string_append_c(text, '\0');
    g_string_append(text, raw_sha);
    return message_sha256_hex(text->str, text->len);
}

/* seen_fd_done - does the marker open on fd say finished? */
static gboolean
seen_fd_done(int fd)
{
    char buf[sizeof SEEN_MARK];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);

    return n == (ssize_t)(sizeof SEEN_MARK - 1) && memcmp(buf, SEEN_MARK, (gsize)n) == 0;
}

/* seen_is_done - does the marker at path say finished? (not locked by anyone
 * is not asked: a finished marker is never written again) */
static gboolean
seen_is_done(const char *path)
{
    gboolean done;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

    if (fd < 0)
        return FALSE;
    done = seen_fd_done(fd);
    close(fd);
    return done;
}

/* seen_expire - remove the day folders other than today's and yesterday's */
static void
seen_expire(const char *base, const char *today, const char *yesterday)
{
    DIR *dir = opendir(base);
    struct dirent *entry;

    if (dir == NULL)
        return;
    while ((entry = readdir(dir)) != NULL) {
        g_autofree char *day_path = NULL;
        DIR *day;
        struct dirent *marker;

        if (entry->d_name[0] == '.' || strcmp(entry->d_name, today) == 0 ||
            strcmp(entry->d_name, yesterday) == 0)
            continue;
        day_path = g_build_filename(base, entry->d_name, NULL);
        day = opendir(day_path);
        if (day == NULL)
            continue;
        while ((marker = readdir(day)) != NULL) {
            if (marker->d_name[0] != '.')
                unlinkat(dirfd(day), marker->d_name, 0);
        }
        closedir(day);
        rmdir(day_path);
    }
    closedir(dir);
}

/* seen_open - see seen.h */
Seen *
seen_open(const char *spool_dir, const char *queue_id, const char *recipient, GBytes *raw,
          SeenState *state)
{
    g_autofree char *key = NULL;
    g_autofree char *base = NULL;
    g_autofree char *today = seen_day(0);
    g_autofree char *yesterday = seen_day(1);
    g_autofree char *dir = NULL;
    g_autofree char *old = NULL;
    g_autofree char *path = NULL;
    Seen *seen;
    int fd;

    *state = SEEN_OFF;
    /* A replay is asked for by the operator, after a fix: judge it again. */
    if (queue_id == NULL || *queue_id == '\0' || strcmp(queue_id, "REPLAY") == 0)
        return NULL;
    key = seen_key(queue_id, recipient, raw);
    base = g_build_filename(spool_dir, "seen", NULL);
    old = g_build_filename(base, yesterday, key, NULL);
    if (seen_is_done(old)) {
        *state = SEEN_DONE;
        return NULL;
    }
    dir = g_build_filename(base, today, NULL);
    path = g_build_filename(dir, key, NULL);
    fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0640);
    if (fd < 0 && errno == ENOENT) {
        /* The first delivery of a day makes its folder and tidies up. */
        if (mkdir(dir, 0750) == 0 || (errno == ENOENT && g_mkdir_with_parents(dir, 0750) == 0))
            seen_expire(base, today, yesterday);
        fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0640);
    }
    if (fd < 0)
        return NULL; /* no marker: the delivery goes on as if there were no filter */
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        *state = errno == EWOULDBLOCK ? SEEN_BUSY : SEEN_OFF;
        return NULL;
    }
    if (seen_fd_done(fd)) {
        close(fd);
        *state = SEEN_DONE;
        return NULL;
    }
    seen = g_new0(Seen, 1);
    seen->fd = fd;
    seen->path = g_steal_pointer(&path);
    *state = SEEN_NEW;
    return seen;
}

/* seen_finish - see seen.h */
void
seen_finish(Seen *seen)
{
    ssize_t n;

    if (seen == NULL || seen->settled)
        return;
    n = pwrite(seen->fd, SEEN_MARK, sizeof SEEN_MARK - 1, 0);
    (void)n; /* a marker not written only costs a second parse */
    seen->settled = TRUE;
}

/* seen_abandon - see seen.h */
void
seen_abandon(Seen *seen)
{
    if (seen == NULL || seen->settled)
        return;
    unlink(seen->path); /* still locked: nobody finishes it meanwhile */
    seen->settled = TRUE;
}

/* seen_free - see seen.h */
void
seen_free(Seen *seen)
{
    if (seen == NULL)
        return;
    seen_abandon(seen);
    close(seen->fd);
    g_free(seen->path);
    g_free(seen);
}
