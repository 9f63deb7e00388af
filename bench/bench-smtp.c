/*
 * bench-smtp.c - SMTP load client for bench/run: N messages over M
 * concurrent STARTTLS connections, each SMTP "250" after DATA timestamped.
 *
 *   bench-smtp -p PORT -n N -c M -m TEMPLATE -t RCPT [-f FROM] [-H HOST]
 *              [--no-tls] [-r RATE] [--notify CONNINFO | --maildir DIR]
 *              [--wait SECONDS] [-o TSV]
 *
 * TEMPLATE is a message whose Message-ID contains "@@ID@@"; every message
 * sent gets a unique id there (bench-<pid>-<n>). Each connection sends its
 * share of the N messages one after the other (MAIL, RCPT, DATA), then QUIT.
 * With -r the messages are paced to RATE per second over all connections,
 * which is how bench/run measures latency at a fraction of peak; then
 * every connection is opened (STARTTLS done) before the first message is
 * due, and the clock starts there.
 *
 * Completion, i.e. when the message has reached its destination:
 * --notify   LISTEN replygate_reply on CONNINFO from before the first message;
 *            each notification carries the messages.id and is timestamped on
 *            arrival, which is after the transaction committed. At the end
 *            the ids are mapped to Message-IDs with one query.
 * --maildir  wait until N files are in DIR/new; a file's mtime is when
 *            virtual(8) finished writing it; its Message-ID says which one.
 * Latency is completion time minus the time of the 250 after DATA, both
 * CLOCK_REALTIME on this machine. Throughput is N divided by the time from
 * the first connect to the last completion.
 *
 * The last line printed is the one bench/run reads:
 *   result n=.. ok=.. failed=.. completed=.. msgs_per_s=.. accept_per_s=..
 *          p50_ms=.. p99_ms=.. smtp_p50_ms=.. smtp_p99_ms=..
 * Exit 0 when every message was accepted and completed, 1 otherwise.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ID_MARK "@@ID@@"

typedef struct {
    char *id;        /* the Message-ID's unique part */
    gint64 t_start;  /* realtime µs at MAIL FROM */
    gint64 t_250;    /* realtime µs at the 250 after DATA; 0 when refused */
    gint64 t_done;   /* realtime µs at completion; 0 when not seen */
    char reply[128]; /* the server's answer to DATA */
} Sent;

typedef struct {
    const char *host;
    int port;
    int count;
    int conns;
    gboolean tls;
    double rate;
    const char *from;
    const char *rcpt;
    const char *notify;
    const char *maildir;
    const char *tsv;
    int wait_s;
    char *head; /* template up to the mark, dot-stuffed, CRLF */
    char *tail; /* template after the mark, dot-stuffed, CRLF */
    Sent *sent;
    gint next; /* next message index, atomic */
    gint64 t0; /* realtime µs at start */
    gint64 t0_mono;
    /* With a rate: the workers open their connections first, and the clock
     * starts when all of them are open. */
    GMutex gate_lock;
    GCond gate_cond;
    int opened;      /* workers that tried to open, under gate_lock */
    gboolean go;     /* t0 is set, under gate_lock */
    SSL_CTX *ssl_ctx;
    int pid;
} Bench;

typedef struct {
    int fd;
    SSL *ssl;
    char buf[8192];
    size_t len;
} Conn;

/* die - a setup error: print and exit 2 */
static void G_GNUC_NORETURN G_GNUC_PRINTF(1, 2) die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("bench-smtp: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* conn_write - write all of buf, over TLS once it is on */
static gboolean
conn_write(Conn *c, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = c->ssl ? SSL_write(c->ssl, buf, (int)MIN(len, (size_t)1 << 30))
                           : write(c->fd, buf, len);
        if (n <= 0) {
            if (c->ssl == NULL && n < 0 && errno == EINTR)
                continue;
            return FALSE;
        }
        buf += n;
        len -= (size_t)n;
    }
    return TRUE;
}

/* conn_reply - read one (possibly multi-line) SMTP reply; its code, or -1 */
static int
conn_reply(Conn *c, char *last, size_t last_size)
{
    for (;;) {
        char *nl;
        ssize_t n;
        while ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
            size_t linelen = (size_t)(nl - c->buf) + 1;
            gboolean final = linelen >= 4 && c->buf[3] != '-';
            int code = atoi(c->buf);
            if (final && last != NULL) {
                size_t k = MIN(linelen, last_size - 1);
                memcpy(last, c->buf, k);
                last[k] = '\0';
                g_strchomp(last);
            }
            memmove(c->buf, nl + 1, c->len - linelen);
            c->len -= linelen;
            if (final)
                return code;
        }
        if (c->len == sizeof c->buf)
            return -1;
        n = c->ssl ? SSL_read(c->ssl, c->buf + c->len, (int)(sizeof c->buf - c->len))
                   : read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
        if (n <= 0) {
            if (c->ssl == NULL && n < 0 && errno == EINTR)
                continue;
            return -1;
        }
        c->len += (size_t)n;
    }
}

/* conn_cmd - send a command line and read the reply code */
static int
conn_cmd(Conn *c, const char *line, char *last, size_t last_size)
{
    if (!conn_write(c, line, strlen(line)))
        return -1;
    return conn_reply(c, last, last_size);
}

/* conn_open - connect, greet, and STARTTLS when asked; FALSE on failure */
static gboolean
conn_open(Bench *b, Conn *c)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)b->port)};
    int one = 1;

    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0 || inet_pton(AF_INET, b->host, &sa.sin_addr) != 1)
        return FALSE;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        return FALSE;
    if (conn_reply(c, NULL, 0) != 220 || conn_cmd(c, "EHLO bench.example\r\n", NULL, 0) != 250)
        return FALSE;
    if (!b->tls)
        return TRUE;
    if (conn_cmd(c, "STARTTLS\r\n", NULL, 0) != 220)
        return FALSE;
    c->ssl = SSL_new(b->ssl_ctx);
    SSL_set_fd(c->ssl, c->fd);
    if (SSL_connect(c->ssl) != 1)
        return FALSE;
    c->len = 0;
    return conn_cmd(c, "EHLO bench.example\r\n", NULL, 0) == 250;
}

/* conn_close - QUIT and release */
static void
conn_close(Conn *c)
{
    if (c->fd >= 0)
        conn_cmd(c, "QUIT\r\n", NULL, 0);
    if (c->ssl != NULL) {
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    if (c->fd >= 0)
        close(c->fd);
    c->ssl = NULL;
    c->fd = -1;
}

/* pace - with a rate, sleep until message i is due */
static void
pace(Bench *b, int i)
{
    gint64 due, now;

    if (b->rate <= 0)
        return;
    due = b->t0_mono + (gint64)(i * 1e6 / b->rate);
    now = g_get_monotonic_time();
    if (due > now)
        g_usleep((gulong)(due - now));
}

/* send_one - one SMTP transaction for message i; FALSE if the connection broke */
static gboolean
send_one(Bench *b, Conn *c, int i)
{
    Sent *s = &b->sent[i];
    char line[1024];
    int code;

    s->t_start = g_get_real_time();
    g_snprintf(line, sizeof line, "MAIL FROM:<%s>\r\n", b->from);
    code = conn_cmd(c, line, s->reply, sizeof s->reply);
    if (code != 250)
        return code > 0 && conn_cmd(c, "RSET\r\n", NULL, 0) == 250;
    g_snprintf(line, sizeof line, "RCPT TO:<%s>\r\n", b->rcpt);
    code = conn_cmd(c, line, s->reply, sizeof s->reply);
    if (code != 250)
        return code > 0 && conn_cmd(c, "RSET\r\n", NULL, 0) == 250;
    code = conn_cmd(c, "DATA\r\n", s->reply, sizeof s->reply);
    if (code != 354)
        return code > 0 && conn_cmd(c, "RSET\r\n", NULL, 0) == 250;
    if (!conn_write(c, b->head, strlen(b->head)) || !conn_write(c, s->id, strlen(s->id)) ||
        !conn_write(c, b->tail, strlen(b->tail)) || !conn_write(c, ".\r\n", 3))
        return FALSE;
    code = conn_reply(c, s->reply, sizeof s->reply);
    if (code == 250)
        s->t_250 = g_get_real_time();
    return code > 0;
}

/* worker - one connection: take messages until none are left */
static gpointer
worker(gpointer data)
{
    Bench *b = data;
    Conn c = {.fd = -1};
    gboolean open = FALSE;

    if (b->rate > 0) {
        /* Paced, the load starts with every connection open and its TLS
         * handshake done: twenty handshakes in the first tenth of a second
         * are no part of a steady rate. */
        open = conn_open(b, &c);
        if (!open)
            conn_close(&c);
        g_mutex_lock(&b->gate_lock);
        b->opened++;
        g_cond_broadcast(&b->gate_cond);
        while (!b->go)
            g_cond_wait(&b->gate_cond, &b->gate_lock);
        g_mutex_unlock(&b->gate_lock);
    }
    for (;;) {
        int i = g_atomic_int_add(&b->next, 1);
        if (i >= b->count)
            break;
        pace(b, i);
        if (!open && !(open = conn_open(b, &c))) {
            g_strlcpy(b->sent[i].reply, "connect/STARTTLS failed", sizeof b->sent[i].reply);
            conn_close(&c);
            continue;
        }
        if (!send_one(b, &c, i)) {
            conn_close(&c);
            open = FALSE;
        }
    }
    if (open)
        conn_close(&c);
    return NULL;
}

/* find_sent - the Sent whose id is in text (a Message-ID), or NULL */
static Sent *
find_sent(Bench *b, GHashTable *by_id, const char *msgid)
{
    const char *p = strstr(msgid, "bench-");
    char key[64];
    size_t k = 0;

    if (p == NULL)
        return NULL;
    while (p[k] != '\0' && p[k] != '@' && p[k] != '>' && k < sizeof key - 1) {
        key[k] = p[k];
        k++;
    }
    key[k] = '\0';
    return g_hash_table_lookup(by_id, key);
}

/* The LISTEN side: a thread that timestamps each notification as it arrives,
 * from before the first message until every accepted message is in. */
typedef struct {
    PGconn *pg;
    GHashTable *seen; /* messages.id as text -> realtime µs of its notification (gint64 *) */
    gint want;        /* notifications to wait for; G_MAXINT until sending ends (atomic) */
    gint64 deadline;  /* monotonic µs; set with want (under lock) */
    GMutex lock;
    GThread *thread;
} Listener;

/* listener_run - the listening thread */
static gpointer
listener_run(gpointer data)
{
    Listener *l = data;
    int got = 0;

    for (;;) {
        struct pollfd pfd = {.fd = PQsocket(l->pg), .events = POLLIN};
        PGnotify *n;
        gint64 deadline;

        g_mutex_lock(&l->lock);
        deadline = l->deadline;
        g_mutex_unlock(&l->lock);
        if (got >= g_atomic_int_get(&l->want) || g_get_monotonic_time() > deadline)
            break;
        if (poll(&pfd, 1, 50) < 0 && errno != EINTR)
            break;
        if (!PQconsumeInput(l->pg))
            die("lost the LISTEN connection: %s", PQerrorMessage(l->pg));
        while ((n = PQnotifies(l->pg)) != NULL) {
            gint64 now = g_get_real_time();
            if (!g_hash_table_contains(l->seen, n->extra)) {
                g_hash_table_insert(l->seen, g_strdup(n->extra), g_memdup2(&now, sizeof now));
                got++;
            }
            PQfreemem(n);
        }
    }
    return NULL;
}

/* listener_start - connect, LISTEN, and start the thread before any message */
static Listener *
listener_start(const char *conninfo)
{
    Listener *l = g_new0(Listener, 1);
    PGresult *r;

    l->pg = PQconnectdb(conninfo);
    if (PQstatus(l->pg) != CONNECTION_OK)
        die("cannot connect to %s: %s", conninfo, PQerrorMessage(l->pg));
    r = PQexec(l->pg, "LISTEN replygate_reply");
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        die("LISTEN failed: %s", PQerrorMessage(l->pg));
    PQclear(r);
    l->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    l->want = G_MAXINT;
    l->deadline = G_MAXINT64;
    g_mutex_init(&l->lock);
    l->thread = g_thread_new("listen", listener_run, l);
    return l;
}

/* listener_finish - wait for want notifications or the deadline, then map
 * ids to Message-IDs and date the Sent entries; returns how many completed */
static int
listener_finish(Bench *b, Listener *l, GHashTable *by_id, int want, gint64 deadline)
{
    PGresult *r;
    int done = 0;

    g_mutex_lock(&l->lock);
    l->deadline = deadline;
    g_mutex_unlock(&l->lock);
    g_atomic_int_set(&l->want, want);
    g_thread_join(l->thread);
    r = PQexec(l->pg, "SELECT id::text, message_id FROM replygate.messages");
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        die("SELECT failed: %s", PQerrorMessage(l->pg));
    for (int row = 0; row < PQntuples(r); row++) {
        const gint64 *t = g_hash_table_lookup(l->seen, PQgetvalue(r, row, 0));
        Sent *s = find_sent(b, by_id, PQgetvalue(r, row, 1));
        if (t != NULL && s != NULL && s->t_done == 0) {
            s->t_done = *t;
            done++;
        }
    }
    PQclear(r);
    PQfinish(l->pg);
    g_hash_table_unref(l->seen);
    g_mutex_clear(&l->lock);
    g_free(l);
    return done;
}

/* maildir_msgid - the Message-ID header's value in the file's head, or "" */
static void
maildir_msgid(const char *path, char *out, size_t size)
{
    char buf[16384];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    char *p;

    out[0] = '\0';
    if (f)
        fclose(f);
    buf[n] = '\0';
    p = strcasestr(buf, "\nMessage-ID:");
    if (p != NULL)
        g_strlcpy(out, p + 12, MIN(size, 200));
}

/* maildir_count - files in dir */
static int
maildir_count(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* wait_maildir - wait for want files in dir/new, then date each by its mtime */
static int
wait_maildir(Bench *b, GHashTable *by_id, int want, gint64 deadline)
{
    g_autofree char *dir = g_build_filename(b->maildir, "new", NULL);
    DIR *d;
    struct dirent *e;
    int done = 0;

    while (maildir_count(dir) < want && g_get_monotonic_time() < deadline)
        g_usleep(5000);
    if ((d = opendir(dir)) == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        g_autofree char *path = NULL;
        char msgid[256];
        struct stat st;
        Sent *s;
        if (e->d_name[0] == '.')
            continue;
        path = g_build_filename(dir, e->d_name, NULL);
        if (stat(path, &st) != 0)
            continue;
        maildir_msgid(path, msgid, sizeof msgid);
        s = find_sent(b, by_id, msgid);
        if (s != NULL && s->t_done == 0) {
            s->t_done = (gint64)st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000;
            done++;
        }
    }
    closedir(d);
    return done;
}

/* cmp_i64 - qsort comparison */
static int
cmp_i64(const void *a, const void *b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
    return (x > y) - (x < y);
}

/* percentile - nearest-rank percentile of sorted v[n], in ms */
static double
percentile(const gint64 *v, int n, double p)
{
    int k;

    if (n == 0)
        return 0;
    k = (int)(p / 100.0 * n + 0.999999) - 1;
    return v[CLAMP(k, 0, n - 1)] / 1000.0;
}

/* load_template - read the file, LF to CRLF, dot-stuff, split at the mark */
static void
load_template(Bench *b, const char *path)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GString) out = g_string_new(NULL);
    gsize len;
    char *mark;
    const char *p;

    if (!g_file_get_contents(path, &text, &len, &error))
        die("%s", error->message);
    for (p = text; p < text + len;) {
        const char *nl = memchr(p, '\n', (size_t)(text + len - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(text + len - p);
        if (l > 0 && p[l - 1] == '\r')
            l--;
        if (l > 0 && p[0] == '.')
            g_string_append_c(out, '.');
        g_string_append_len(out, p, (gssize)l);
        g_string_append(out, "\r\n");
        p += (nl ? (size_t)(nl - p) + 1 : l);
        if (!nl)
            break;
    }
    mark = strstr(out->str, ID_MARK);
    if (mark == NULL)
        die("%s has no %s in it", path, ID_MARK);
    b->head = g_strndup(out->str, (gsize)(mark - out->str));
    b->tail = g_strdup(mark + strlen(ID_MARK));
}

/* usage - print usage and exit 2 */
static void G_GNUC_NORETURN
usage(void)
{
    fputs("usage: bench-smtp -p PORT -n N -c M -m TEMPLATE -t RCPT [-f FROM] [-H HOST]\n"
          "                  [--no-tls] [-r RATE] [--notify CONNINFO | --maildir DIR]\n"
          "                  [--wait SECONDS] [-o TSV]\n",
          stderr);
    exit(2);
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"no-tls", no_argument, NULL, 'T'},
        {"notify", required_argument, NULL, 'N'},
        {"maildir", required_argument, NULL, 'D'},
        {"wait", required_argument, NULL, 'w'},
        {NULL, 0, NULL, 0},
    };
    Bench b = {.host = "127.0.0.1",
               .count = 100,
               .conns = 4,
               .tls = TRUE,
               .from = "alice@bench.example",
               .wait_s = 120};
    const char *template = NULL;
    g_autoptr(GHashTable) by_id = g_hash_table_new(g_str_hash, g_str_equal);
    g_autofree gint64 *lat = NULL, *smtp = NULL;
    GThread **threads;
    Listener *listener = NULL;
    gint64 t_end = 0, t_last250 = 0;
    int opt, ok = 0, done = 0, nlat = 0;

    while ((opt = getopt_long(argc, argv, "H:p:n:c:m:t:f:r:o:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'H':
            b.host = optarg;
            break;
        case 'p':
            b.port = atoi(optarg);
            break;
        case 'n':
            b.count = atoi(optarg);
            break;
        case 'c':
            b.conns = atoi(optarg);
            break;
        case 'm':
            template = optarg;
            break;
        case 't':
            b.rcpt = optarg;
            break;
        case 'f':
            b.from = optarg;
            break;
        case 'r':
            b.rate = g_ascii_strtod(optarg, NULL);
            break;
        case 'o':
            b.tsv = optarg;
            break;
        case 'T':
            b.tls = FALSE;
            break;
        case 'N':
            b.notify = optarg;
            break;
        case 'D':
            b.maildir = optarg;
            break;
        case 'w':
            b.wait_s = atoi(optarg);
            break;
        default:
            usage();
        }
    }
    if (b.port <= 0 || b.count <= 0 || b.conns <= 0 || template == NULL || b.rcpt == NULL)
        usage();
    load_template(&b, template);
    b.pid = (int)getpid();
    b.sent = g_new0(Sent, b.count);
    for (int i = 0; i < b.count; i++) {
        b.sent[i].id = g_strdup_printf("bench-%d-%d", b.pid, i);
        g_hash_table_insert(by_id, b.sent[i].id, &b.sent[i]);
    }
    b.ssl_ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(b.ssl_ctx, SSL_VERIFY_NONE, NULL); /* a self-signed test certificate */
    if (b.notify != NULL)
        listener = listener_start(b.notify);

    g_mutex_init(&b.gate_lock);
    g_cond_init(&b.gate_cond);
    b.t0 = g_get_real_time();
    b.t0_mono = g_get_monotonic_time();
    threads = g_new0(GThread *, b.conns);
    for (int t = 0; t < b.conns; t++)
        threads[t] = g_thread_new("conn", worker, &b);
    if (b.rate > 0) {
        /* Paced, the clock starts once every connection is open. */
        g_mutex_lock(&b.gate_lock);
        while (b.opened < b.conns)
            g_cond_wait(&b.gate_cond, &b.gate_lock);
        b.t0 = g_get_real_time();
        b.t0_mono = g_get_monotonic_time();
        b.go = TRUE;
        g_cond_broadcast(&b.gate_cond);
        g_mutex_unlock(&b.gate_lock);
    }
    for (int t = 0; t < b.conns; t++)
        g_thread_join(threads[t]);
    g_free(threads);

    for (int i = 0; i < b.count; i++) {
        if (b.sent[i].t_250 != 0) {
            ok++;
            t_last250 = MAX(t_last250, b.sent[i].t_250);
        }
    }
    {
        gint64 deadline = g_get_monotonic_time() + (gint64)b.wait_s * G_USEC_PER_SEC;
        if (listener != NULL)
            done = listener_finish(&b, listener, by_id, ok, deadline);
        else if (b.maildir != NULL)
            done = wait_maildir(&b, by_id, ok, deadline);
    }

    lat = g_new0(gint64, b.count);
    smtp = g_new0(gint64, b.count);
    for (int i = 0; i < b.count; i++) {
        Sent *s = &b.sent[i];
        if (s->t_250 != 0)
            smtp[i] = s->t_250 - s->t_start;
        if (s->t_250 != 0 && s->t_done != 0) {
            lat[nlat++] = MAX(0, s->t_done - s->t_250);
            t_end = MAX(t_end, s->t_done);
        }
    }
    if (b.tsv != NULL) {
        FILE *f = fopen(b.tsv, "w");
        if (f == NULL)
            die("cannot write %s", b.tsv);
        fputs("id\tstart_us\tt250_us\tdone_us\treply\n", f);
        for (int i = 0; i < b.count; i++)
            fprintf(f, "%s\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT "\t%s\n",
                    b.sent[i].id, b.sent[i].t_start - b.t0,
                    b.sent[i].t_250 ? b.sent[i].t_250 - b.t0 : -1,
                    b.sent[i].t_done ? b.sent[i].t_done - b.t0 : -1, b.sent[i].reply);
        fclose(f);
    }
    for (int i = 0; i < b.count && ok < b.count; i++)
        if (b.sent[i].t_250 == 0) {
            fprintf(stderr, "bench-smtp: message %d refused: %s\n", i, b.sent[i].reply);
            break;
        }
    qsort(lat, (size_t)nlat, sizeof *lat, cmp_i64);
    {
        int nsmtp = 0;
        double accept_s = (t_last250 - b.t0) / 1e6;
        double total_s = (t_end - b.t0) / 1e6;
        gboolean completion = b.notify != NULL || b.maildir != NULL;

        for (int i = 0; i < b.count; i++)
            if (smtp[i] > 0)
                smtp[nsmtp++] = smtp[i];
        qsort(smtp, (size_t)nsmtp, sizeof *smtp, cmp_i64);
        printf("result n=%d ok=%d failed=%d completed=%d msgs_per_s=%.1f accept_per_s=%.1f "
               "p50_ms=%.1f p99_ms=%.1f smtp_p50_ms=%.2f smtp_p99_ms=%.2f\n",
               b.count, ok, b.count - ok, done, completion && total_s > 0 ? done / total_s : 0.0,
               accept_s > 0 ? ok / accept_s : 0.0, percentile(lat, nlat, 50),
               percentile(lat, nlat, 99), percentile(smtp, nsmtp, 50), percentile(smtp, nsmtp, 99));
        return ok == b.count && (!completion || done == ok) ? 0 : 1;
    }
}
