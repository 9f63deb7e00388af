/*
 * cmd-postfix-setup.c - `replygate postfix-setup`: the one code path that
 * edits Postfix for replygate, used by the administrator after installing
 * the package, by scripts/install, and (with --remove) by the package's
 * prerm and by scripts/uninstall.
 *
 * The edits themselves are postfix-conf-apply's (a shell script shipped in
 * the data folder beside the postfix-conf/ files it applies, the way
 * postfix(1) runs postfix-script): this command fills in the words from
 * replygate.conf, runs it, and then reloads Postfix only when that is safe:
 * `postfix check` passes and the milter completes a negotiation on its
 * socket as Postfix's mail_owner (the identity smtpd connects with). It
 * never reloads Postfix into a state where smtpd cannot reach the milter;
 * it says what to do instead.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include <gio/gio.h>

#include "as-user.h"
#include "commands.h"

#define SETUP_STATE "/var/lib/replygate/postfix.state"

typedef struct {
    const char *postfix_dir; /* NULL: postconf's default */
} Setup;

/* setup_run - a program with standard output and error passed through;
 * returns its exit status, or -1 with error set */
static int
setup_run(const char *const *argv, char **output, GError **error)
{
    int status = 0;
    GSpawnFlags flags =
        G_SPAWN_SEARCH_PATH | (output ? G_SPAWN_STDERR_TO_DEV_NULL : G_SPAWN_CHILD_INHERITS_STDIN);

    fflush(stdout);
    if (!g_spawn_sync(NULL, (char **)argv, NULL, flags, NULL, NULL, output, NULL, &status, error))
        return -1;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s was killed", argv[0]);
    return -1;
}

/* setup_postconf - one parameter (postconf -xh NAME), or NULL */
static char *
setup_postconf(const Setup *s, const char *name)
{
    const char *argv[] = {"postconf", "-xh", name, NULL, NULL, NULL};
    g_autofree char *out = NULL;

    if (s->postfix_dir) {
        argv[1] = "-c";
        argv[2] = s->postfix_dir;
        argv[3] = "-xh";
        argv[4] = name;
    }
    if (setup_run(argv, &out, NULL) != 0)
        return NULL;
    return g_strdup(g_strstrip(out));
}

/* setup_postfix - postfix [-c DIR] COMMAND; its exit status */
static int
setup_postfix(const Setup *s, const char *command, gboolean quiet)
{
    const char *argv[] = {"postfix", command, NULL, NULL, NULL};
    g_autofree char *out = NULL;
    g_autoptr(GError) error = NULL;
    int rc;

    if (s->postfix_dir) {
        argv[1] = "-c";
        argv[2] = s->postfix_dir;
        argv[3] = command;
    }
    rc = setup_run(argv, quiet ? &out : NULL, &error);
    if (rc < 0)
        fprintf(stderr, "replygate: postfix-setup: postfix %s: %s\n", command, error->message);
    return rc;
}

/* setup_apply_script - the installed postfix-conf-apply, else the source tree's */
static char *
setup_apply_script(void)
{
    const char *env = g_getenv("REPLYGATE_POSTFIX_CONF_APPLY");
    char *path;

    if (env && *env)
        return g_strdup(env);
    path = g_build_filename(REPLYGATE_DATADIR, "postfix-conf-apply", NULL);
    if (g_file_test(path, G_FILE_TEST_IS_EXECUTABLE))
        return path;
    g_free(path);
    return g_build_filename(REPLYGATE_SOURCE_DIR, "scripts", "postfix-conf-apply", NULL);
}

/* setup_milter_word - the milter socket as smtpd names it: relative to the
 * queue directory when it lies inside it (so it works chrooted), Postfix's
 * inet:host:port for libmilter's inet:port@host */
static char *
setup_milter_word(const char *milter_socket, const char *queue_dir)
{
    const char *path = config_unix_socket_path(milter_socket);

    if (path && queue_dir && g_str_has_prefix(path, queue_dir) && path[strlen(queue_dir)] == '/')
        return g_strdup_printf("unix:%s", path + strlen(queue_dir) + 1);
    if (path)
        return g_strdup_printf("unix:%s", path);
    if (g_str_has_prefix(milter_socket, "inet:") && strchr(milter_socket, '@')) {
        const char *at = strchr(milter_socket, '@');
        g_autofree char *port = g_strndup(milter_socket + 5, at - milter_socket - 5);
        return g_strdup_printf("inet:%s:%s", at + 1, port);
    }
    return g_strdup(milter_socket);
}

/* setup_reload - postfix check, the milter as mail_owner, then postfix reload */
static int
setup_reload(const Setup *s, const Config *config, const char *queue_dir, gboolean removing)
{
    g_autofree char *owner = setup_postconf(s, "mail_owner");
    g_autoptr(GError) error = NULL;

    if (setup_postfix(s, "status", TRUE) != 0) {
        printf("postfix-setup: Postfix is not running; it reads the new settings when it starts\n");
        return EX_OK;
    }
    if (setup_postfix(s, "check", FALSE) != 0) {
        printf("postfix-setup: not reloading Postfix: `postfix check` reports a problem (above);"
               " fix it, then run: postfix reload\n");
        return EX_CONFIG;
    }
    if (!removing &&
        !milter_ping_as(owner ? owner : "postfix", config->milter_socket, queue_dir, 5, &error)) {
        printf("postfix-setup: not reloading Postfix: the milter does not answer on %s as user"
               " %s: %s.\npostfix-setup: start it (systemctl start replygate-milter), check with"
               " `replygate check`, then run: postfix reload\n",
               config->milter_socket, owner ? owner : "postfix", error->message);
        return EX_TEMPFAIL;
    }
    if (setup_postfix(s, "reload", TRUE) != 0) {
        printf("postfix-setup: postfix reload failed\n");
        return EX_SOFTWARE;
    }
    printf("postfix-setup: reloaded Postfix%s\n",
           removing ? "" : " (the milter answered as user postfix first)");
    return EX_OK;
}

/* cmd_postfix_setup - apply (or remove) replygate's Postfix settings */
int
cmd_postfix_setup(int argc, char **argv)
{
    g_autofree char *config_path = NULL;
    g_autofree char *postfix_dir = NULL;
    g_autofree char *listener = NULL;
    g_autofree char *tls_cert = NULL;
    g_autofree char *tls_key = NULL;
    g_autofree char *state = NULL;
    g_autofree char *deliver = NULL;
    gboolean remove = FALSE, no_reload = FALSE;
    GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "configuration file", "FILE"},
        {"postfix-config", 0, 0, G_OPTION_ARG_FILENAME, &postfix_dir,
         "Postfix config directory (default: postconf's)", "DIR"},
        {"listener", 0, 0, G_OPTION_ARG_STRING, &listener,
         "a dedicated smtpd on ADDR:PORT with the milter there only", "ADDR:PORT"},
        {"remove", 0, 0, G_OPTION_ARG_NONE, &remove, "take replygate's settings out again", NULL},
        {"tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert,
         "smtpd certificate when main.cf has none (default: snakeoil or self-signed)", "FILE"},
        {"tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key, "its key", "FILE"},
        {"state", 0, 0, G_OPTION_ARG_FILENAME, &state,
         "what was changed, for --remove (default " SETUP_STATE ")", "FILE"},
        {"deliver", 0, 0, G_OPTION_ARG_FILENAME, &deliver,
         "the replygate-deliver pipe(8) runs (default " REPLYGATE_SBINDIR "/replygate-deliver)",
         "PROGRAM"},
        {"no-reload", 0, 0, G_OPTION_ARG_NONE, &no_reload, "edit the files only", NULL},
        {NULL},
    };
    g_autoptr(Config) config = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *script = setup_apply_script();
    g_autofree char *queue_dir = NULL;
    g_autofree char *domains = NULL;
    const char *path;
    Setup s = {0};
    int rc;

    if (!cli_parse_options("",
                           "Apply replygate's Postfix settings (postfix-conf/) to main.cf and\n"
                           "master.cf, adding only what is missing, then reload Postfix once\n"
                           "the milter answers as user postfix. --remove takes them out.",
                           entries, &argc, &argv))
        return EX_USAGE;
    if (argc != 1 || (tls_cert == NULL) != (tls_key == NULL) || (remove && listener)) {
        fprintf(stderr, "usage: replygate postfix-setup [--config FILE] [--postfix-config DIR]"
                        " [--listener ADDR:PORT] [--tls-cert FILE --tls-key FILE] [--remove]\n");
        return EX_USAGE;
    }
    if (geteuid() != 0) {
        fprintf(stderr, "replygate: postfix-setup: run as root: it edits Postfix's files\n");
        return EX_NOPERM;
    }
    s.postfix_dir = postfix_dir;
    path = config_resolve_path(config_path);
    config = config_load(path, &error);
    if (config == NULL && !remove) {
        fprintf(stderr, "replygate: %s\n", error->message);
        return EX_CONFIG;
    }
    queue_dir = setup_postconf(&s, "queue_directory");
    if (queue_dir == NULL) {
        fprintf(stderr, "replygate: postfix-setup: postconf does not answer: is Postfix"
                        " installed (apt-get install postfix)?\n");
        return EX_UNAVAILABLE;
    }

    g_ptr_array_add(args, g_strdup(script));
    if (postfix_dir) {
        g_ptr_array_add(args, g_strdup("-c"));
        g_ptr_array_add(args, g_strdup(postfix_dir));
    }
    g_ptr_array_add(args, g_strdup("-s"));
    g_ptr_array_add(args, g_strdup(state ? state : SETUP_STATE));
    if (remove)
        g_ptr_array_add(args, g_strdup("--remove"));
    if (listener) {
        g_ptr_array_add(args, g_strdup("--listener"));
        g_ptr_array_add(args, g_strdup(listener));
    }
    if (config) {
        g_autofree char *milter = setup_milter_word(config->milter_socket, queue_dir);
        /* A staging install (scripts/install --root) names the final path. */
        const char *final = g_getenv("REPLYGATE_FINAL_CONFIG");
        g_autofree char *abs = g_canonicalize_filename(final && *final ? final : path, NULL);

        /* reply_domains is not NULL-terminated: join it by its length. */
        {
            g_autoptr(GString) joined = g_string_new(NULL);

            for (guint i = 0; i < config->reply_domains->len; i++)
                g_string_append_printf(joined, "%s%s", i ? " " : "",
                                       (const char *)g_ptr_array_index(config->reply_domains, i));
            domains = g_string_free(g_steal_pointer(&joined), FALSE);
        }
        g_ptr_array_add(args, g_strdup_printf("REPLY_DOMAINS=%s", domains));
        g_ptr_array_add(args, g_strdup_printf("MILTER=%s", milter));
        g_ptr_array_add(args, g_strdup_printf("CONFIG=%s", abs));
        g_ptr_array_add(args,
                        g_strdup_printf("MAX_SIZE=%" G_GUINT64_FORMAT, config->max_message_size));
    }
    g_ptr_array_add(
        args,
        g_strdup_printf("DELIVER=%s", deliver ? deliver : REPLYGATE_SBINDIR "/replygate-deliver"));
    g_ptr_array_add(args, g_strdup_printf("TLS_CERT=%s", tls_cert ? tls_cert : "auto"));
    g_ptr_array_add(args, g_strdup_printf("TLS_KEY=%s", tls_key ? tls_key : "auto"));
    g_ptr_array_add(args, g_strdup("CERT_DIR=" REPLYGATE_SYSCONFDIR "/tls"));
    g_ptr_array_add(args, NULL);

    rc = setup_run((const char *const *)args->pdata, NULL, &error);
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "replygate: postfix-setup: %s: %s\n", script, error->message);
        return rc < 0 ? EX_SOFTWARE : rc;
    }
    if (no_reload)
        return EX_OK;
    if (config == NULL) {
        /* Removing without a configuration: nothing to ping, just reload. */
        if (setup_postfix(&s, "status", TRUE) == 0 && setup_postfix(&s, "check", FALSE) == 0)
            return setup_postfix(&s, "reload", TRUE) == 0 ? EX_OK : EX_SOFTWARE;
        return EX_OK;
    }
    return setup_reload(&s, config, queue_dir, remove);
}
