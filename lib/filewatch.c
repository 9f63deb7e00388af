/*
 * filewatch.c - polled file status (filewatch.h).
 *
 * Polling rather than inotify: a stat() per file per second costs nothing,
 * works on every file system, and follows the symbolic links that
 * configuration management likes to put in /etc, where an inotify watch on
 * the folder would miss the target's changes.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

#include "filewatch.h"

/* What one look saw of one path. */
typedef struct {
    char *path;
    gboolean exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    struct timespec ctime;
} Watched;

struct FileWatch {
    pthread_mutex_t lock;
    gint64 interval_us;
    gint64 last_look; /* monotonic microseconds */
    GArray *files;    /* Watched */
};

/* watched_clear - release one entry */
static void
watched_clear(gpointer data)
{
    g_free(((Watched *)data)->path);
}

/* look - stat one path into w (path kept) */
static void
look(Watched *w)
{
    struct stat st;

    if (stat(w->path, &st) != 0) {
        w->exists = FALSE;
        w->dev = 0;
        w->ino = 0;
        w->size = 0;
        memset(&w->mtime, 0, sizeof w->mtime);
        memset(&w->ctime, 0, sizeof w->ctime);
        return;
    }
    w->exists = TRUE;
    w->dev = st.st_dev;
    w->ino = st.st_ino;
    w->size = st.st_size;
    w->mtime = st.st_mtim;
    w->ctime = st.st_ctim;
}

/* same - did two looks see the same file in the same state? */
static gboolean
same(const Watched *a, const Watched *b)
{
    return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
           a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* filewatch_new - watch nothing yet */
FileWatch *
filewatch_new(guint interval_ms)
{
    FileWatch *watch = g_new0(FileWatch, 1);

    pthread_mutex_init(&watch->lock, NULL);
    watch->interval_us = (gint64)interval_ms * 1000;
    watch->files = g_array_new(FALSE, TRUE, sizeof(Watched));
    g_array_set_clear_func(watch->files, watched_clear);
    return watch;
}

/* filewatch_free - stop watching */
void
filewatch_free(FileWatch *watch)
{
    if (watch == NULL)
        return;
    g_array_unref(watch->files);
    pthread_mutex_destroy(&watch->lock);
    g_free(watch);
}

/* filewatch_set - watch exactly these paths, their state now as seen */
void
filewatch_set(FileWatch *watch, const char *const *paths)
{
    pthread_mutex_lock(&watch->lock);
    g_array_set_size(watch->files, 0);
    for (guint i = 0; paths != NULL && paths[i] != NULL; i++) {
        Watched w = {.path = g_strdup(paths[i])};

        look(&w);
        g_array_append_val(watch->files, w);
    }
    watch->last_look = g_get_monotonic_time();
    pthread_mutex_unlock(&watch->lock);
}

/* filewatch_changed - has any path changed since the last look? */
gboolean
filewatch_changed(FileWatch *watch, gboolean force)
{
    gint64 now = g_get_monotonic_time();
    gboolean changed = FALSE;

    pthread_mutex_lock(&watch->lock);
    if (force || now - watch->last_look >= watch->interval_us) {
        watch->last_look = now;
        for (guint i = 0; i < watch->files->len; i++) {
            Watched *old = &g_array_index(watch->files, Watched, i);
            Watched fresh = {.path = old->path};

            look(&fresh);
            if (!same(old, &fresh)) {
                changed = TRUE;
                fresh.path = old->path;
                *old = fresh;
            }
        }
    }
    pthread_mutex_unlock(&watch->lock);
    return changed;
}
