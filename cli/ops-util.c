/*
 * ops-util.c - helpers of the operator subcommands (replay, test-email,
 * bundle): finding sibling programs, reading a header, running a program,
 * and reading the end of a log file.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ops-util.h"
#include "rg-error.h"

/* ops_find_program - option, environment, beside us, build tree, $PATH */
char *
ops_find_program(const char *option, const char *env_name, const char *name)
{
    const char *env = env_name ? g_getenv(env_name) : NULL;
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    static const char *const neighbours[] = {".",         "../sbin", "../bin", "../pipe-agent",
                                             "../milter", "../cli"};

    if (option && *option)
        return g_strdup(option);
    if (env && *env)
        return g_strdup(env);
    if (self) {
        g_autofree char *dir = g_path_get_dirname(self);
        for (guint i = 0; i < G_N_ELEMENTS(neighbours); i++) {
            g_autofree char *path = g_build_filename(dir, neighbours[i], name, NULL);
            if (g_file_test(path, G_FILE_TEST_IS_EXECUTABLE) &&
                !g_file_test(path, G_FILE_TEST_IS_DIR))
                return g_steal_pointer(&path);
        }
    }
    return g_find_program_in_path(name);
}

/* ops_header_value - the first header called name, unfolded */
char *
ops_header_value(const char *raw, gsize len, const char *name)
{
    gsize name_len = strlen(name);
    const char *p = raw, *end = raw + len;

    while (p < end) {
        const char *eol = memchr(p, '\n', (gsize)(end - p));
        gsize line_len = eol ? (gsize)(eol - p) : (gsize)(end - p);

        if (line_len == 0 || (line_len == 1 && p[0] == '\r'))
            return NULL; /* the end of the header block */
        if (line_len > name_len && p[name_len] == ':' &&
            g_ascii_strncasecmp(p, name, name_len) == 0) {
            GString *value = g_string_new_len(p + name_len + 1, (gssize)(line_len - name_len - 1));
            const char *next = eol ? eol + 1 : end;
            /* Continuation lines start with white space. */
            while (next < end && (*next == ' ' || *next == '\t')) {
                const char *e2 = memchr(next, '\n', (gsize)(end - next));
                gsize l2 = e2 ? (gsize)(e2 - next) : (gsize)(end - next);
                g_string_append_len(value, next, (gssize)l2);
                next = e2 ? e2 + 1 : end;
            }
            g_strchomp(value->str);
            value->len = strlen(value->str);
            return g_strstrip(g_string_free(value, FALSE));
        }
        p = eol ? eol + 1 : end;
    }
    return NULL;
}

/* ops_drop_to - become uid/gid in a child (initgroups first) */
static void
ops_drop_to(uid_t uid, gid_t gid)
{
    struct passwd *pw = getpwuid(uid);

    if (setgroups(0, NULL) < 0 && errno != EPERM)
        _exit(126);
    if (pw && initgroups(pw->pw_name, gid) < 0)
        _exit(126);
    if (setgid(gid) < 0 || setuid(uid) < 0)
        _exit(126);
}

/* ops_run - fork, exec, collect output, wait */
int
ops_run(const char *const *argv, int stdin_fd, uid_t uid, gid_t gid, char **output, GError **error)
{
    int pipefd[2];
    pid_t pid;
    int status;
    g_autoptr(GString) out = g_string_new(NULL);
    char buf[4096];
    ssize_t n;

    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "pipe: %s", g_strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        int saved = errno;
        close(pipefd[0]);
        close(pipefd[1]);
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "fork: %s", g_strerror(saved));
        return -1;
    }
    if (pid == 0) {
        int in = stdin_fd >= 0 ? stdin_fd : open("/dev/null", O_RDONLY);
        if (in < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(pipefd[1], STDOUT_FILENO) < 0 ||
            dup2(pipefd[1], STDERR_FILENO) < 0)
            _exit(126);
        if (uid != (uid_t)-1)
            ops_drop_to(uid, gid);
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], g_strerror(errno));
        _exit(127);
    }
    close(pipefd[1]);
    while ((n = read(pipefd[0], buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        g_string_append_len(out, buf, n);
    }
    close(pipefd[0]);
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "waitpid: %s", g_strerror(errno));
            return -1;
        }
    }
    if (output)
        *output = g_strdup(out->str);
    if (!WIFEXITED(status)) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "%s was killed by signal %d", argv[0],
                    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        return -1;
    }
    if (WEXITSTATUS(status) == 127 || WEXITSTATUS(status) == 126) {
        g_set_error(error, RG_ERROR, RG_ERROR_CONFIG, "cannot run %s: %s", argv[0],
                    g_strstrip(out->str));
        return -1;
    }
    return WEXITSTATUS(status);
}

/* ops_redact_macs - reply addresses without their macs */
char *
ops_redact_macs(const char *text)
{
    g_autoptr(GRegex) mac =
        g_regex_new("(?<![0-9a-z])([a-z]{1,16}-[0-9]{1,20}-)[0-9a-f]{40}(-[0-9]{1,20})"
                    "(?![0-9])",
                    G_REGEX_CASELESS, 0, NULL);

    return g_regex_replace(mac, text ? text : "", -1, 0, "\\1MAC-REDACTED\\2", 0, NULL);
}

/* ops_tail_lines - the last matching lines, reading backwards in blocks */
GPtrArray *
ops_tail_lines(const char *path, guint max_lines, GRegex *filter, GError **error)
{
    enum { BLOCK = 65536 };
    g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) carry = g_string_new(NULL); /* a partial line from the block after */
    g_autofree char *block = g_malloc(BLOCK);
    struct stat st;
    off_t pos;
    /* Root reads logs in folders that other users own: a link planted
     * there must not make it copy a file it was never asked for. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

    if (fd < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", path,
                    errno == ELOOP ? "a symbolic link, not followed" : g_strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: not a regular file", path);
        return NULL;
    }
    pos = st.st_size;
    while (pos > 0 && kept->len < max_lines) {
        size_t want = pos > BLOCK ? BLOCK : (size_t)pos;
        ssize_t n;

        pos -= (off_t)want;
        n = pread(fd, block, want, pos);
        if (n != (ssize_t)want)
            break;
        g_string_prepend_len(carry, block, n);
        /* Every complete line in carry, from the end backwards. */
        for (;;) {
            char *nl;
            gsize start;
            if (carry->len == 0)
                break;
            /* Drop a trailing newline so the last line is found whole. */
            if (carry->str[carry->len - 1] == '\n') {
                g_string_truncate(carry, carry->len - 1);
                continue;
            }
            nl = g_strrstr_len(carry->str, (gssize)carry->len, "\n");
            if (nl == NULL)
                break;
            start = (gsize)(nl - carry->str) + 1;
            if (filter == NULL || g_regex_match(filter, carry->str + start, 0, NULL))
                g_ptr_array_add(kept, g_strdup(carry->str + start));
            g_string_truncate(carry, start - 1);
            if (kept->len >= max_lines)
                break;
        }
    }
    close(fd);
    /* The first line of the file has no newline before it. */
    if (pos == 0 && carry->len > 0 && kept->len < max_lines &&
        (filter == NULL || g_regex_match(filter, carry->str, 0, NULL)))
        g_ptr_array_add(kept, g_strdup(carry->str));
    /* Collected newest first: turn them around. */
    for (guint i = 0, j = kept->len ? kept->len - 1 : 0; i < j; i++, j--) {
        gpointer t = kept->pdata[i];
        kept->pdata[i] = kept->pdata[j];
        kept->pdata[j] = t;
    }
    return g_steal_pointer(&kept);
}

/* ops_redact_passwords - passwords in conninfo strings and URIs redacted */
char *
ops_redact_passwords(const char *text)
{
    /* A URI's query: ?password=... up to the next '&'. */
    g_autoptr(GRegex) query = g_regex_new("([?&]password=)[^&\\s#]*", G_REGEX_CASELESS, 0, NULL);
    /* A conninfo keyword: password=value or password = 'quoted \' value'. */
    g_autoptr(GRegex) conninfo =
        g_regex_new("((?<![?&])password\\s*=\\s*)('(?:[^'\\\\]|\\\\.)*'?|(?:[^\\s'\\\\]|\\\\.)+)",
                    G_REGEX_CASELESS, 0, NULL);
    /* A URI's user information: scheme://user:password@host. */
    g_autoptr(GRegex) uri =
        g_regex_new("([a-z][a-z0-9+.-]*://[^:/@\\s]*:)[^@\\s/]*@", G_REGEX_CASELESS, 0, NULL);
    g_autofree char *a = g_regex_replace(query, text, -1, 0, "\\1REDACTED", 0, NULL);
    g_autofree char *b = g_regex_replace(conninfo, a, -1, 0, "\\1REDACTED", 0, NULL);

    return g_regex_replace(uri, b, -1, 0, "\\1REDACTED@", 0, NULL);
}

/* ops_monotonic_ms - milliseconds on the monotonic clock */
double
ops_monotonic_ms(void)
{
    return (double)g_get_monotonic_time() / 1000.0;
}
