/*
 * cmd-replay.c - `replygate replay PATH...`: feed messages from the spool's
 * failure/ folder, or any .eml file, through replygate-deliver again once
 * the cause of their failure is fixed.
 *
 * The agent runs as a subprocess with the queue id REPLAY and the envelope
 * that pipe(8) wrote into the spooled copy (flags=DOR: Return-Path for the
 * sender, X-Original-To or Delivered-To for the recipient), unless -f and -r
 * give it. Run as root, the agent becomes the spool's owner, the user Postfix
 * runs it as, so that the files it writes stay that user's.
 *
 * Root never follows a link the spool's user could plant (issue 13 item 3):
 * a file is opened without following a link at its end (O_NOFOLLOW), judged
 * by its descriptor (fstat: a regular file; inside the spool, one with a
 * single link owned by the spool's user), and read and handed to the agent
 * through that same descriptor. The processor log is opened the same way
 * and, when replay creates it, given to the spool's user with fchown().
 *
 * A replay is idempotent: the database's unique key makes a second store of
 * the same message a duplicate, which the agent counts as success. After a
 * success a file from failure/ moves to success/ (its .reason file goes), and
 * the processor log says so. The agent spools its own copy of what it reads;
 * for a file from the spool that copy is the same bytes, so it is removed
 * and the original takes its place: one file per message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "commands.h"
#include "maillog.h"
#include "ops-util.h"
#include "proclog.h"
#include "rg-error.h"
#include "rg-limits.h"

typedef struct {
    const char *config_path; /* resolved */
    Config *config;
    const char *deliver;
    const char *sender;    /* -f, or NULL */
    const char *recipient; /* -r, or NULL */
    ProcLog *proclog;
    uid_t uid; /* the agent's user, or (uid_t)-1 to stay who we are */
    gid_t gid;
    uid_t spool_owner; /* who must own a file in the spool, as seen by root */
    char *spool_dir;   /* real paths of the spool and its folders */
    char *failure_dir;
    char *success_dir;
} Replay;

/* The largest .reason file read. */
#define REPLAY_REASON_MAX 4096

typedef enum { REPLAY_STORED, REPLAY_DEFERRED, REPLAY_REFUSED } ReplayResult;

/* replay_realpath - the canonical path, or a copy of path if it has none */
static char *
replay_realpath(const char *path)
{
    char *real = realpath(path, NULL);
    char *out = g_strdup(real ? real : path);

    free(real);
    return out;
}

/* replay_in_spool - is the folder dir (a real path) inside the spool? */
static gboolean
replay_in_spool(const Replay *r, const char *dir)
{
    gsize n = strlen(r->spool_dir);

    return strncmp(dir, r->spool_dir, n) == 0 && (dir[n] == '\0' || dir[n] == '/');
}

/* replay_open - open path for reading without following a link at its end
 * and without blocking on a FIFO; what was opened must be a regular file
 * and, when owner is not (uid_t)-1, have one link and belong to owner.
 * -1 with *why (static) when not; *refuse (may be NULL) says whether that
 * is for good (a link, not a regular file, someone else's) or may pass
 * (a missing or unreadable file). */
static int
replay_open(const char *path, uid_t owner, const char **why, gboolean *refuse)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    gboolean dummy;

    if (refuse == NULL)
        refuse = &dummy;
    *refuse = TRUE;
    if (fd < 0) {
        *refuse = errno == ELOOP;
        *why = errno == ELOOP ? "a symbolic link, which is never followed" : g_strerror(errno);
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        *why = "not a regular file";
        return -1;
    }
    if (owner != (uid_t)-1 && (st.st_uid != owner || st.st_nlink != 1)) {
        close(fd);
        *why = "not a file of the spool's user with a single link";
        return -1;
    }
    fcntl(fd, F_SETFL, 0); /* reading blocks again: a regular file never waits */
    return fd;
}

/* replay_read_fd - the whole content of an open regular file, at most max
 * bytes (more is an error); NULL with *why (static) */
static char *
replay_read_fd(int fd, gsize max, gsize *len, const char **why)
{
    g_autoptr(GByteArray) buf = g_byte_array_new();
    guint8 chunk[65536];

    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *why = g_strerror(errno);
            return NULL;
        }
        if (n == 0)
            break;
        if (buf->len + (gsize)n > max) {
            *why = "too big to replay";
            return NULL;
        }
        g_byte_array_append(buf, chunk, (guint)n);
    }
    *len = buf->len;
    g_byte_array_append(buf, (const guint8 *)"", 1);
    return (char *)g_byte_array_free(g_steal_pointer(&buf), FALSE);
}

/* replay_owner - who must own a file in folder dir: the spool's user when
 * root reads it, nobody in particular otherwise (no privilege to lend) */
static uid_t
replay_owner(const Replay *r, const char *dir)
{
    if (geteuid() != 0 || !replay_in_spool(r, dir))
        return (uid_t)-1;
    return r->spool_owner;
}

/* replay_read - the content of path, opened as replay_open() does; NULL
 * when it cannot be opened or read */
static char *
replay_read(const Replay *r, const char *path, gsize max, gsize *len)
{
    g_autofree char *dir = g_path_get_dirname(path);
    const char *why = NULL;
    int fd = replay_open(path, replay_owner(r, dir), &why, NULL);
    char *text;

    if (fd < 0)
        return NULL;
    text = replay_read_fd(fd, max, len, &why);
    close(fd);
    return text;
}

/* replay_envelope_address - "<a@b>" or "a@b" from a header into a@b */
static char *
replay_envelope_address(const char *value)
{
    const char *lt = strchr(value, '<');
    const char *gt = lt ? strchr(lt, '>') : NULL;

    if (lt && gt)
        return g_strndup(lt + 1, (gsize)(gt - lt - 1));
    return g_strstrip(g_strdup(value));
}

/* replay_envelope - sender and recipient: -f/-r, or pipe(8)'s headers */
static gboolean
replay_envelope(const Replay *r, const char *raw, gsize len, char **sender, char **recipient,
                GError **error)
{
    g_autofree char *rp = NULL;
    g_autofree char *to = NULL;

    if (r->sender)
        *sender = g_strdup(r->sender);
    else if ((rp = ops_header_value(raw, len, "Return-Path")) != NULL)
        *sender = replay_envelope_address(rp);
    else
        *sender = NULL;
    if (r->recipient)
        *recipient = g_strdup(r->recipient);
    else if ((to = ops_header_value(raw, len, "X-Original-To")) != NULL ||
             (to = ops_header_value(raw, len, "Delivered-To")) != NULL)
        *recipient = replay_envelope_address(to);
    else
        *recipient = NULL;
    if (*sender == NULL || *recipient == NULL || **recipient == '\0') {
        g_set_error(error, RG_ERROR, RG_ERROR_INVALID,
                    "no %s in the message (Postfix's pipe flags=DOR add them): give %s",
                    *sender == NULL ? "Return-Path" : "X-Original-To or Delivered-To",
                    *sender == NULL ? "-f SENDER" : "-r RECIPIENT");
        g_clear_pointer(sender, g_free);
        g_clear_pointer(recipient, g_free);
        return FALSE;
    }
    return TRUE;
}

/* replay_same_bytes - does the file at path hold exactly raw? */
static gboolean
replay_same_bytes(const Replay *r, const char *path, const char *raw, gsize len)
{
    g_autofree char *other = NULL;
    gsize other_len = 0;

    other = replay_read(r, path, len, &other_len);
    return other != NULL && other_len == len && memcmp(other, raw, len) == 0;
}

/* replay_agent_copy - the agent's spool copy of raw in dir, written since
 * since (seconds), other than exclude; NULL when there is none */
static char *
replay_agent_copy(const Replay *r, const char *dir, const char *raw, gsize len, time_t since,
                  const char *exclude)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    if (d == NULL)
        return NULL;
    while ((name = g_dir_read_name(d)) != NULL) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        struct stat st;

        if (g_str_has_suffix(name, ".reason") || lstat(path, &st) < 0 || !S_ISREG(st.st_mode) ||
            st.st_mtime < since || (gsize)st.st_size != len)
            continue;
        if (exclude && strcmp(path, exclude) == 0)
            continue;
        if (replay_same_bytes(r, path, raw, len))
            return g_steal_pointer(&path);
    }
    return NULL;
}

/* replay_fsync_dir - make a rename in dir durable */
static void
replay_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* replay_settle - after a success, the original from failure/ goes to
 * success/ in place of the agent's copy, and its .reason goes away */
static void
replay_settle_success(Replay *r, const char *real, const char *raw, gsize len, time_t since)
{
    g_autofree char *dir = g_path_get_dirname(real);
    g_autofree char *base = g_path_get_basename(real);
    g_autofree char *to = NULL;
    g_autofree char *reason = NULL;
    g_autofree char *copy = NULL;

    if (r->failure_dir == NULL || strcmp(dir, r->failure_dir) != 0)
        return; /* an .eml from elsewhere: the agent's copy is the spool's record */
    to = g_build_filename(r->success_dir, base, NULL);
    if (rename(real, to) < 0) {
        fprintf(stderr, "replygate: replay: cannot move %s to %s: %s\n", real, r->success_dir,
                g_strerror(errno));
        return;
    }
    replay_fsync_dir(r->success_dir);
    replay_fsync_dir(r->failure_dir);
    reason = g_strconcat(real, ".reason", NULL);
    (void)unlink(reason);
    proclog_debug(r->proclog, "Moving %s => %s", real, r->success_dir);
    copy = replay_agent_copy(r, r->success_dir, raw, len, since, to);
    if (copy)
        (void)unlink(copy);
}

/* replay_settle_refusal - refused again: keep the original in failure/ with
 * the new reason, and drop the agent's second copy */
static void
replay_settle_refusal(Replay *r, const char *real, const char *raw, gsize len, time_t since)
{
    g_autofree char *dir = g_path_get_dirname(real);
    g_autofree char *copy = NULL;

    if (r->failure_dir == NULL || strcmp(dir, r->failure_dir) != 0)
        return;
    copy = replay_agent_copy(r, r->failure_dir, raw, len, since, real);
    if (copy) {
        g_autofree char *copy_reason = g_strconcat(copy, ".reason", NULL);
        g_autofree char *reason = g_strconcat(real, ".reason", NULL);
        if (rename(copy_reason, reason) < 0)
            (void)unlink(copy_reason);
        (void)unlink(copy);
    }
}

/* replay_one - one file through the agent; prints one line */
static ReplayResult
replay_one(Replay *r, const char *path)
{
    /* The folder's real path, but never the file's: a link at the end of
     * path is refused, not resolved. */
    g_autofree char *dir_name = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *dir = replay_realpath(dir_name);
    g_autofree char *real = g_build_filename(dir, base, NULL);
    g_autofree char *raw = NULL;
    g_autofree char *sender = NULL;
    g_autofree char *recipient = NULL;
    g_autofree char *output = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *esc = NULL;
    const char *argv[12];
    const char *why = NULL;
    gboolean refuse = FALSE;
    gsize len = 0;
    int fd, status, n = 0;
    time_t since = time(NULL) - 1;

    fd = replay_open(real, replay_owner(r, dir), &why, &refuse);
    if (fd < 0) {
        printf("%s: %s: %s\n", path, refuse ? "refused" : "deferred", why);
        return refuse ? REPLAY_REFUSED : REPLAY_DEFERRED;
    }
    raw = replay_read_fd(fd, LIMIT_MESSAGE_SIZE_MAX + 1, &len, &why);
    if (raw == NULL || lseek(fd, 0, SEEK_SET) != 0) {
        printf("%s: deferred: %s\n", path, raw == NULL ? why : g_strerror(errno));
        close(fd);
        return REPLAY_DEFERRED;
    }
    {
        /* The agent keeps only the first max_message_size bytes of a message
         * too big (5.3.4): replaying them would store a cut reply as whole. */
        g_autofree char *reason_path = g_strconcat(real, ".reason", NULL);
        g_autofree char *reason = NULL;
        gsize reason_len = 0;

        reason = replay_read(r, reason_path, REPLAY_REASON_MAX, &reason_len);
        if (reason != NULL && g_str_has_prefix(reason, "5.3.4 message too big")) {
            close(fd);
            printf("%s: refused: only the first bytes of a message too big were kept; the "
                   "sender must send it again\n",
                   path);
            return REPLAY_REFUSED;
        }
    }
    if (!replay_envelope(r, raw, len, &sender, &recipient, &error)) {
        close(fd);
        printf("%s: refused: %s\n", path, error->message);
        return REPLAY_REFUSED;
    }
    esc = maillog_escape(real);
    proclog_info(r->proclog, "replygate: replay %s", esc);
    argv[n++] = r->deliver;
    argv[n++] = "--config";
    argv[n++] = r->config_path;
    argv[n++] = "-q";
    argv[n++] = "REPLAY";
    argv[n++] = "-f";
    argv[n++] = sender;
    argv[n++] = "-r";
    argv[n++] = recipient;
    argv[n] = NULL;
    status = ops_run(argv, fd, r->uid, r->gid, &output, &error);
    close(fd);
    if (status < 0) {
        printf("%s: deferred: %s\n", path, error->message);
        return REPLAY_DEFERRED;
    }
    g_strstrip(output);
    if (strchr(output, '\n'))
        *strchr(output, '\n') = '\0';
    if (status == EX_OK) {
        replay_settle_success(r, real, raw, len, since);
        printf("%s: stored (from=<%s> to=<%s>)\n", path, sender, recipient);
        return REPLAY_STORED;
    }
    if (status == EX_TEMPFAIL) {
        printf("%s: deferred: %s\n", path, *output ? output : "exit 75");
        return REPLAY_DEFERRED;
    }
    replay_settle_refusal(r, real, raw, len, since);
    printf("%s: refused (exit %d): %s\n", path, status, output);
    return REPLAY_REFUSED;
}

/* replay_compare - order file names */
static int
replay_compare(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* replay_expand - a folder becomes its message files, in name order */
static void
replay_expand(const char *path, GPtrArray *files)
{
    g_autoptr(GDir) d = NULL;
    g_autoptr(GPtrArray) names = NULL;
    const char *name;

    if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
        g_ptr_array_add(files, g_strdup(path));
        return;
    }
    d = g_dir_open(path, 0, NULL);
    if (d == NULL) {
        g_ptr_array_add(files, g_strdup(path)); /* reported when it is read */
        return;
    }
    names = g_ptr_array_new_with_free_func(g_free);
    while ((name = g_dir_read_name(d)) != NULL) {
        g_autofree char *full = g_build_filename(path, name, NULL);
        struct stat st;

        /* Links and other odd entries stay in the list: replay_one() refuses
         * them by name, so the operator sees what was planted. */
        if (name[0] == '.' || g_str_has_suffix(name, ".reason") || lstat(full, &st) < 0 ||
            S_ISDIR(st.st_mode))
            continue;
        g_ptr_array_add(names, g_steal_pointer(&full));
    }
    g_ptr_array_sort(names, replay_compare);
    for (guint i = 0; i < names->len; i++)
        g_ptr_array_add(files, g_strdup(g_ptr_array_index(names, i)));
}

/* replay_agent_user - as root, the agent runs as the spool's owner */
static void
replay_agent_user(Replay *r)
{
    struct stat st;

    r->uid = (uid_t)-1;
    r->gid = (gid_t)-1;
    r->spool_owner = geteuid();
    if (stat(r->config->spool_directory, &st) < 0)
        return;
    r->spool_owner = st.st_uid;
    if (geteuid() != 0 || st.st_uid == 0)
        return;
    r->uid = st.st_uid;
    r->gid = st.st_gid;
}

/* cmd_replay - feed spooled or saved messages through the agent again */
int
cmd_replay(int argc, char **argv)
{
    g_autofree char *config_path = NULL;
    g_autofree char *sender = NULL;
    g_autofree char *recipient = NULL;
    g_autofree char *deliver_option = NULL;
    GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "configuration file", "FILE"},
        {"sender", 'f', 0, G_OPTION_ARG_STRING, &sender,
         "envelope sender (default: the Return-Path header)", "SENDER"},
        {"recipient", 'r', 0, G_OPTION_ARG_STRING, &recipient,
         "envelope recipient (default: X-Original-To or Delivered-To)", "RECIPIENT"},
        {"deliver", 0, 0, G_OPTION_ARG_FILENAME, &deliver_option,
         "the replygate-deliver program to run", "PROGRAM"},
        {NULL},
    };
    g_autoptr(Config) config = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(ProcLog) proclog = NULL;
    g_autofree char *deliver = NULL;
    g_autofree char *failure = NULL;
    g_autofree char *success = NULL;
    Replay r = {0};
    guint stored = 0, deferred = 0, refused = 0;

    if (!cli_parse_options("PATH...",
                           "Deliver messages from the spool's failure/ folder, or .eml files,\n"
                           "again with replygate-deliver. A folder stands for its messages.\n"
                           "Already stored messages are duplicates and count as stored.",
                           entries, &argc, &argv))
        return EX_USAGE;
    if (argc < 2) {
        fprintf(stderr, "usage: replygate replay [--config FILE] [-f SENDER] [-r RECIPIENT] "
                        "PATH...\n");
        return EX_USAGE;
    }
    if (!cli_load(config_path, &config, NULL, &error)) {
        fprintf(stderr, "replygate: %s\n", error->message);
        return EX_CONFIG;
    }
    deliver = ops_find_program(deliver_option, "REPLYGATE_DELIVER", "replygate-deliver");
    if (deliver == NULL) {
        fprintf(stderr, "replygate: replay: replygate-deliver not found; give --deliver\n");
        return EX_CONFIG;
    }
    failure = g_build_filename(config->spool_directory, "failure", NULL);
    success = g_build_filename(config->spool_directory, "success", NULL);
    r.config_path = config_resolve_path(config_path);
    r.config = config;
    r.deliver = deliver;
    r.sender = sender;
    r.recipient = recipient;
    r.spool_dir = replay_realpath(config->spool_directory);
    r.failure_dir = replay_realpath(failure);
    r.success_dir = replay_realpath(success);
    replay_agent_user(&r);
    /* A log that root makes here must stay writable for the agent's user:
     * proclog_open_as() creates it with O_EXCL and gives its descriptor away. */
    proclog = proclog_open_as(config->processor_log, r.uid, r.gid, &error);
    if (proclog == NULL) {
        fprintf(stderr, "replygate: replay: %s; going on without it\n", error->message);
        g_clear_error(&error);
    }
    r.proclog = proclog;

    for (int i = 1; i < argc; i++)
        replay_expand(argv[i], files);
    for (guint i = 0; i < files->len; i++) {
        switch (replay_one(&r, g_ptr_array_index(files, i))) {
        case REPLAY_STORED:
            stored++;
            break;
        case REPLAY_DEFERRED:
            deferred++;
            break;
        case REPLAY_REFUSED:
            refused++;
            break;
        }
    }
    printf("replayed %u: %u stored, %u deferred, %u refused\n", files->len, stored, deferred,
           refused);
    g_free(r.spool_dir);
    g_free(r.failure_dir);
    g_free(r.success_dir);
    if (refused)
        return 1;
    return deferred ? EX_TEMPFAIL : EX_OK;
}
