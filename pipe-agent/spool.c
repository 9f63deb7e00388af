/*
 * spool.c - write raw messages durably and move them between spool folders.
 *
 * Like OpenSMTPD's mail.maildir.c: write to tmp/, fsync, rename into new/,
 * fsync the folder. The file is made and written first (spool_file_create),
 * which fixes its name in new/, so that a resident door can fsync and
 * rename it while the message is judged (spool_file_finish, in a worker
 * thread). Every
 * failure here is a resource failure, which the caller turns into
 * EX_TEMPFAIL.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "rg-error.h"
#include "spool.h"

static const char *const spool_folders[] = {"tmp", "new", "success", "failure", NULL};

/* spool_set_errno - a TEMPFAIL error from errno */
static void
spool_set_errno(GError **error, int saved, const char *what, const char *path)
{
    g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "spool: cannot %s %s: %s", what, path,
                g_strerror(saved));
}

/* spool_prepare - make sure the spool and its folders exist */
gboolean
spool_prepare(const char *spool_dir, GError **error)
{
    if (g_mkdir_with_parents(spool_dir, 0750) < 0) {
        spool_set_errno(error, errno, "create", spool_dir);
        return FALSE;
    }
    for (const char *const *f = spool_folders; *f; f++) {
        g_autofree char *dir = g_build_filename(spool_dir, *f, NULL);
        if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
            spool_set_errno(error, errno, "create", dir);
            return FALSE;
        }
    }
    return TRUE;
}

/* spool_fsync_dir - fsync a folder so a rename in it survives a crash */
static gboolean
spool_fsync_dir(const char *dir, GError **error)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0) {
        spool_set_errno(error, errno, "open", dir);
        return FALSE;
    }
    if (fsync(fd) < 0 && errno != EINVAL) {
        int saved = errno;
        close(fd);
        spool_set_errno(error, saved, "fsync", dir);
        return FALSE;
    }
    close(fd);
    return TRUE;
}

/* spool_hostname - the host name with '/' and ':' encoded as maildir asks */
static char *
spool_hostname(void)
{
    char host[256];
    GString *out = g_string_new(NULL);

    if (gethostname(host, sizeof host) < 0 || host[0] == '\0')
        g_strlcpy(host, "localhost", sizeof host);
    host[sizeof host - 1] = '\0';
    for (const char *p = host; *p; p++) {
        if (*p == '/')
            g_string_append(out, "\\057");
        else if (*p == ':')
            g_string_append(out, "\\072");
        else
            g_string_append_c(out, *p);
    }
    return g_string_free(out, FALSE);
}

/* spool_unique_name - the maildir name for a file */
char *
spool_unique_name(gint64 seconds, long usec, guint64 dev, guint64 ino, const char *host)
{
    return g_strdup_printf("%" G_GINT64_FORMAT ".V%" G_GINT64_MODIFIER "xI%" G_GINT64_MODIFIER
                           "xM%06ld.%s",
                           seconds, dev, ino, usec, host);
}

/* spool_write_all - write every byte, retrying short writes */
static gboolean
spool_write_all(int fd, const guint8 *data, gsize len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return FALSE;
        }
        data += n;
        len -= (gsize)n;
    }
    return TRUE;
}

struct SpoolFile {
    int fd;         /* the file in tmp/, written, not yet fsync'd; -1 once closed */
    char *tmp_path; /* tmp/NAME */
    char *path;     /* new/NAME: where spool_file_finish() puts it */
    char *new_dir;
    gboolean in_tmp; /* tmp_path exists and is ours to remove */
};

/* spool_file_create - see spool.h */
SpoolFile *
spool_file_create(const char *spool_dir, GBytes *raw, GError **error)
{
    gsize len;
    const guint8 *data = g_bytes_get_data(raw, &len);
    static gint sequence; /* sessions of one resident door share the pid */
    struct timeval tv;
    struct stat st;
    g_autofree char *host = spool_hostname();
    g_autofree char *tmp_name = NULL;
    g_autofree char *first_path = NULL;
    g_autofree char *name = NULL;
    SpoolFile *file;
    int fd;

    gettimeofday(&tv, NULL);
    tmp_name = g_strdup_printf("%ld.P%ldQ%uM%06ld.%s", (long)tv.tv_sec, (long)getpid(),
                               (guint)g_atomic_int_add(&sequence, 1), (long)tv.tv_usec, host);
    first_path = g_build_filename(spool_dir, "tmp", tmp_name, NULL);
    fd = open(first_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0640);
    if (fd < 0 && errno == ENOENT) {
        /* The folders are made on first use, so a fresh spool needs no setup. */
        if (!spool_prepare(spool_dir, error))
            return NULL;
        fd = open(first_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0640);
    }
    if (fd < 0) {
        spool_set_errno(error, errno, "create", first_path);
        return NULL;
    }
    /* The bytes now, the fsync later: a spool that is full or over its
     * quota says so here, before anything is stored. */
    if (!spool_write_all(fd, data, len) || fstat(fd, &st) < 0) {
        int saved = errno;
        close(fd);
        unlink(first_path);
        spool_set_errno(error, saved, "write", first_path);
        return NULL;
    }
    file = g_new0(SpoolFile, 1);
    file->fd = fd;
    name = spool_unique_name(tv.tv_sec, (long)tv.tv_usec, (guint64)st.st_dev, (guint64)st.st_ino,
                             host);
    file->new_dir = g_build_filename(spool_dir, "new", NULL);
    file->path = g_build_filename(file->new_dir, name, NULL);
    file->tmp_path = g_steal_pointer(&first_path);
    file->in_tmp = TRUE;
    return file;
}

/* spool_file_finish - see spool.h */
gboolean
spool_file_finish(SpoolFile *file, GError **error)
{
    int fd = file->fd;

    g_return_val_if_fail(fd >= 0 && file->in_tmp, FALSE);
    file->fd = -1;
    if (fsync(fd) < 0) {
        spool_set_errno(error, errno, "write", file->tmp_path);
        close(fd);
        goto fail;
    }
    if (close(fd) < 0) {
        spool_set_errno(error, errno, "write", file->tmp_path);
        goto fail;
    }
    if (rename(file->tmp_path, file->path) < 0) {
        spool_set_errno(error, errno, "rename into", file->new_dir);
        goto fail;
    }
    file->in_tmp = FALSE;
    if (!spool_fsync_dir(file->new_dir, error)) {
        unlink(file->path);
        return FALSE;
    }
    return TRUE;
fail:
    unlink(file->tmp_path);
    file->in_tmp = FALSE;
    return FALSE;
}

/* spool_file_path - see spool.h */
const char *
spool_file_path(const SpoolFile *file)
{
    return file->path;
}

/* spool_file_tmp_path - see spool.h */
const char *
spool_file_tmp_path(const SpoolFile *file)
{
    return file->tmp_path;
}

/* spool_file_free - see spool.h */
void
spool_file_free(SpoolFile *file)
{
    if (file == NULL)
        return;
    if (file->fd >= 0)
        close(file->fd);
    if (file->in_tmp)
        unlink(file->tmp_path); /* never finished */
    g_free(file->tmp_path);
    g_free(file->path);
    g_free(file->new_dir);
    g_free(file);
}

/* spool_write_new - write raw durably into new/; returns the file's path */
char *
spool_write_new(const char *spool_dir, GBytes *raw, GError **error)
{
    g_autoptr(SpoolFile) file = spool_file_create(spool_dir, raw, error);

    if (file == NULL || !spool_file_finish(file, error))
        return NULL;
    return g_strdup(file->path);
}

/* spool_move - rename a file into folder and fsync that folder (not success/) */
char *
spool_move(const char *spool_dir, const char *path, const char *folder, GError **error)
{
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *to_dir = g_build_filename(spool_dir, folder, NULL);
    g_autofree char *to_path = g_build_filename(to_dir, base, NULL);

    if (rename(path, to_path) < 0) {
        spool_set_errno(error, errno, "move", path);
        return NULL;
    }
    /* One journal commit carries both folders on ext4 and xfs: the file is
     * in one of them after a crash, so fsync of the destination suffices.
     * A move to success/ needs none: the reply is committed in PostgreSQL
     * already, and after a crash its copy at worst stays in new/. */
    if (strcmp(folder, "success") != 0 && !spool_fsync_dir(to_dir, error))
        return NULL;
    return g_steal_pointer(&to_path);
}

/* spool_write_reason - write text into failure/NAME.reason for a file NAME */
gboolean
spool_write_reason(const char *spool_dir, const char *path, const char *reason, GError **error)
{
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *name = g_strconcat(base, ".reason", NULL);
    g_autofree char *tmp_path = g_build_filename(spool_dir, "tmp", name, NULL);
    g_autofree char *to_path = g_build_filename(spool_dir, "failure", name, NULL);
    g_autofree char *text = g_strconcat(reason, "\n", NULL);
    int fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0640);

    if (fd < 0) {
        spool_set_errno(error, errno, "create", tmp_path);
        return FALSE;
    }
    if (!spool_write_all(fd, (const guint8 *)text, strlen(text)) || fsync(fd) < 0) {
        int saved = errno;
        close(fd);
        unlink(tmp_path);
        spool_set_errno(error, saved, "write", tmp_path);
        return FALSE;
    }
    close(fd);
    if (rename(tmp_path, to_path) < 0) {
        int saved = errno;
        unlink(tmp_path);
        spool_set_errno(error, saved, "rename", to_path);
        return FALSE;
    }
    return TRUE;
}

/* spool_remove - remove a spooled file (after a temporary failure) */
gboolean
spool_remove(const char *path, GError **error)
{
    if (unlink(path) < 0 && errno != ENOENT) {
        spool_set_errno(error, errno, "remove", path);
        return FALSE;
    }
    return TRUE;
}
