/*
 * bench-exec.c - run a program many times with a message on a pipe, the way
 * pipe(8) runs replygate-deliver, and report its median cost per run.
 *
 *   bench-exec [-n RUNS] [-w WARMUP] [-e EXIT] [-u USER] -i MESSAGE -- PROGRAM ARGS...
 *
 * Each run forks PROGRAM with MESSAGE on standard input through a pipe (a
 * writer thread feeds it, as pipe(8) does) and standard output in a file.
 * "@@ID@@" in MESSAGE, if present, becomes a unique id each run, so a storing
 * agent really stores every run instead of finding a duplicate. Wall time
 * is measured from just before fork() to the child's wait4(); CPU time and
 * peak RSS come from the child's own rusage (wait4), so they are the agent's
 * alone. With -u the child switches to USER before exec (as pipe(8) does
 * with user=), so files the agent creates belong to that user. Each run must exit with EXIT
 * (default 0); the first failure's output is shown. The last line printed is the one bench/run
 * reads: result runs=.. failed=.. wall_ms=.. cpu_ms=.. user_ms=.. sys_ms=.. peak_rss_kb=..
 * (medians, and the largest ru_maxrss over all runs).
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    int fd;
    const char *parts[3];
    size_t lens[3];
} Feed;

/* feed - the writer thread: write the message into the pipe, then close it */
static gpointer
feed(gpointer data)
{
    Feed *f = data;

    for (int i = 0; i < 3; i++) {
        const char *p = f->parts[i];
        size_t left = f->lens[i];
        while (left > 0) {
            ssize_t n = write(f->fd, p, left);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                goto out; /* the child stopped reading: that is its answer */
            p += n;
            left -= (size_t)n;
        }
    }
out:
    close(f->fd);
    return NULL;
}

/* cmp_double - qsort comparison */
static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* median - of v[n], sorted in place */
static double
median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* run_once - one run; returns the wait status, fills times and rusage */
static int
run_once(char **argv, const struct passwd *pw, const char *msg, size_t len, const char *mark,
         const char *id, const char *out_path, double *wall_ms, struct rusage *ru)
{
    int pfd[2], status = 0;
    Feed f = {0};
    GThread *writer;
    gint64 t0;
    pid_t pid;

    if (pipe2(pfd, O_CLOEXEC) != 0) {
        perror("bench-exec: pipe");
        exit(2);
    }
    f.fd = pfd[1];
    if (mark != NULL) {
        f.parts[0] = msg;
        f.lens[0] = (size_t)(mark - msg);
        f.parts[1] = id;
        f.lens[1] = strlen(id);
        f.parts[2] = mark + 6;
        f.lens[2] = len - f.lens[0] - 6;
    } else {
        f.parts[0] = msg;
        f.lens[0] = len;
        f.parts[1] = f.parts[2] = "";
    }
    t0 = g_get_monotonic_time();
    pid = fork();
    if (pid == 0) {
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(pfd[0], 0);
        if (out >= 0)
            dup2(out, 1);
        if (pw != NULL && (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
                           setuid(pw->pw_uid) != 0))
            _exit(126);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(pfd[0]);
    writer = g_thread_new("feed", feed, &f);
    while (wait4(pid, &status, 0, ru) < 0 && errno == EINTR)
        ;
    *wall_ms = (g_get_monotonic_time() - t0) / 1000.0;
    g_thread_join(writer);
    return status;
}

int
main(int argc, char **argv)
{
    int runs = 50, warmup = 3, want_exit = 0, opt, failed = 0;
    const char *input = NULL;
    const struct passwd *pw = NULL;
    g_autofree char *msg = NULL;
    g_autofree char *out_path = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree double *wall = NULL, *cpu = NULL, *user = NULL, *sys = NULL;
    long peak = 0;
    gsize len;
    const char *mark;

    while ((opt = getopt(argc, argv, "+n:w:e:i:u:")) != -1) {
        switch (opt) {
        case 'n':
            runs = atoi(optarg);
            break;
        case 'w':
            warmup = atoi(optarg);
            break;
        case 'e':
            want_exit = atoi(optarg);
            break;
        case 'i':
            input = optarg;
            break;
        case 'u':
            if ((pw = getpwnam(optarg)) == NULL) {
                fprintf(stderr, "bench-exec: no user %s\n", optarg);
                return 2;
            }
            break;
        default:
            goto usage;
        }
    }
    if (input == NULL || optind >= argc || runs <= 0)
        goto usage;
    if (!g_file_get_contents(input, &msg, &len, &error)) {
        fprintf(stderr, "bench-exec: %s\n", error->message);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    mark = strstr(msg, "@@ID@@");
    out_path = g_strdup_printf("%s/bench-exec.%d.out", g_get_tmp_dir(), (int)getpid());
    wall = g_new0(double, runs);
    cpu = g_new0(double, runs);
    user = g_new0(double, runs);
    sys = g_new0(double, runs);
    for (int i = -warmup; i < runs; i++) {
        char id[64];
        struct rusage ru = {0};
        double w;
        int status;

        g_snprintf(id, sizeof id, "bench-%d-%d-%" G_GINT64_FORMAT, (int)getpid(), i + warmup,
                   g_get_real_time());
        status = run_once(argv + optind, pw, msg, len, mark, id, out_path, &w, &ru);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != want_exit) {
            g_autofree char *out = NULL;
            if (failed++ == 0) {
                g_file_get_contents(out_path, &out, NULL, NULL);
                fprintf(stderr, "bench-exec: run %d: status %d (wanted exit %d): %.300s\n", i,
                        WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status), want_exit,
                        out ? out : "");
            }
        }
        if (i < 0)
            continue;
        wall[i] = w;
        user[i] = ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3;
        sys[i] = ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
        cpu[i] = user[i] + sys[i];
        peak = MAX(peak, ru.ru_maxrss);
    }
    unlink(out_path);
    printf("result runs=%d failed=%d wall_ms=%.2f cpu_ms=%.2f user_ms=%.2f sys_ms=%.2f "
           "peak_rss_kb=%ld\n",
           runs, failed, median(wall, runs), median(cpu, runs), median(user, runs),
           median(sys, runs), peak);
    return failed == 0 ? 0 : 1;
usage:
    fputs("usage: bench-exec [-n RUNS] [-w WARMUP] [-e EXIT] [-u USER] -i MESSAGE -- PROGRAM "
          "ARGS...\n",
          stderr);
    return 2;
}
