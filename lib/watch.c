/*
 * watch.c - files watched by their stat(2) signature (see watch.h).
 */
#include <string.h>
#include <sys/stat.h>

#include "watch.h"

typedef struct {
    char *path;
    gboolean identity_only; /* device and inode only, not size and times */
    gboolean exists;
    struct stat st;
} WatchedFile;

struct Watch {
    GArray *files; /* WatchedFile */
};

/* watch_take - the signature of one file now */
static void
watch_take(WatchedFile *file)
{
    memset(&file->st, 0, sizeof file->st);
    file->exists = stat(file->path, &file->st) == 0;
}

/* watch_same - do two signatures describe the same unchanged file? */
static gboolean
watch_same(const WatchedFile *a, const WatchedFile *b)
{
    if (a->exists != b->exists)
        return FALSE;
    if (!a->exists)
        return TRUE;
    if (a->identity_only)
        return a->st.st_dev == b->st.st_dev && a->st.st_ino == b->st.st_ino;
    return a->st.st_dev == b->st.st_dev && a->st.st_ino == b->st.st_ino &&
           a->st.st_size == b->st.st_size && a->st.st_mtim.tv_sec == b->st.st_mtim.tv_sec &&
           a->st.st_mtim.tv_nsec == b->st.st_mtim.tv_nsec &&
           a->st.st_ctim.tv_sec == b->st.st_ctim.tv_sec &&
           a->st.st_ctim.tv_nsec == b->st.st_ctim.tv_nsec;
}

/* watch_new - see watch.h */
Watch *
watch_new(const char *const *paths)
{
    Watch *watch = g_new0(Watch, 1);

    watch->files = g_array_new(FALSE, TRUE, sizeof(WatchedFile));
    for (guint i = 0; paths != NULL && paths[i] != NULL; i++) {
        WatchedFile file = {.path = g_strdup(paths[i])};

        watch_take(&file);
        g_array_append_val(watch->files, file);
    }
    return watch;
}

/* watch_add_identity - see watch.h */
void
watch_add_identity(Watch *watch, const char *path)
{
    WatchedFile file = {.path = g_strdup(path), .identity_only = TRUE};

    watch_take(&file);
    g_array_append_val(watch->files, file);
}

/* watch_changed - see watch.h */
gboolean
watch_changed(Watch *watch)
{
    gboolean changed = FALSE;

    for (guint i = 0; i < watch->files->len; i++) {
        WatchedFile *file = &g_array_index(watch->files, WatchedFile, i);
        WatchedFile now = {.path = file->path, .identity_only = file->identity_only};

        watch_take(&now);
        if (!watch_same(file, &now)) {
            changed = TRUE;
            file->exists = now.exists;
            file->st = now.st;
        }
    }
    return changed;
}

/* watch_free - see watch.h */
void
watch_free(Watch *watch)
{
    if (watch == NULL)
        return;
    for (guint i = 0; i < watch->files->len; i++)
        g_free(g_array_index(watch->files, WatchedFile, i).path);
    g_array_unref(watch->files);
    g_free(watch);
}
