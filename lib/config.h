/*
 * config.h - replygate.conf, the Postfix-style configuration (SPEC section 7).
 *
 * "name = value" lines, '#' comments, and lines that start with white space
 * continue the previous one. Every name has a default except reply_domain.
 * An unknown name or a bad value is an error naming the file, line and name.
 */
#ifndef RG_CONFIG_H
#define RG_CONFIG_H

#include <glib.h>

#define CONFIG_DEFAULT_PATH REPLYGATE_SYSCONFDIR "/replygate.conf"

typedef enum {
    AUTO_SUBMITTED_REJECT,
    AUTO_SUBMITTED_DISCARD,
} AutoSubmittedAction;

/* sender_policy: what the agent demands of the verifiers' results (authres.h). */
typedef enum {
    SENDER_POLICY_RECORD,             /* store the results, refuse nothing */
    SENDER_POLICY_REQUIRE_DMARC_PASS, /* refuse a message without dmarc=pass for its From */
} SenderPolicy;

/* from_check: does From have to be one of the key's user's addresses? */
typedef enum {
    FROM_CHECK_RECORD,  /* store whether it is */
    FROM_CHECK_REQUIRE, /* refuse when it is not */
} FromCheck;
/* after_queue_refusal: what a permanent refusal after the queue does (SPEC section 5). */
typedef enum {
    AFTER_QUEUE_BOUNCE, /* the status of SPEC section 5: Postfix bounces to the sender */
    AFTER_QUEUE_KEEP,   /* success to Postfix, kept in failure/, a refusal row for the app */
} AfterQueueRefusal;

/* One static_address line: a full address standing for kind and target, user 0. */
typedef struct {
    char *address; /* lower case */
    char *kind;
    guint64 target;
} StaticAddress;

typedef struct {
    char *path;               /* the file it was read from, for messages */
    GPtrArray *reply_domains; /* char *, lower case, at least one */
    char *address_prefix;     /* "reply" */
    char *address_separator;  /* "+" */
    char *secrets_file;
    char *database; /* libpq conninfo or URI */
    char *spool_directory;
    char *processor_log;
    gboolean require_tls;
    char *tls_min_version;       /* as written, e.g. "TLSv1.2" */
    int tls_min_rank;            /* tls_version_rank(tls_min_version) */
    int auto_submitted_action;   /* AutoSubmittedAction */
    char *noreply_address;       /* lower case, or NULL */
    GPtrArray *static_addresses; /* StaticAddress *, may be empty */
    guint64 max_message_size;
    char *milter_socket;
    char *syslog_socket;           /* the datagram socket mail.log lines go to ("/dev/log") */
    char *authserv_id;             /* our verifiers' RFC 8601 authserv-id; "" when none */
    guint64 rate_limit_per_key;    /* messages per hour to one key, per host; 0: off */
    guint64 rate_limit_per_sender; /* messages per hour from one envelope sender; 0: off */
    char *milter_socket_group;     /* the group of the milter's unix socket ("postfix") */
    gboolean milter_remove_authentication_results; /* delete inbound ones claiming authserv_id */
    char *metrics_textfile; /* where `replygate metrics --write` puts its text */
    int sender_policy;   /* SenderPolicy */
    int from_check;      /* FromCheck */
    char **action_kinds; /* kinds that may come with an empty body (NULL-terminated) */
    /* The LMTP service (replygate-lmtpd(8)). */
    char *lmtp_socket;               /* unix:/path or inet:port@host */
    guint64 lmtp_pool_size;          /* PostgreSQL connections at most */
    guint64 lmtp_pool_wait;          /* seconds a delivery waits for one */
    guint64 lmtp_max_sessions;       /* concurrent sessions; past it 421 4.3.2 */
    guint64 lmtp_idle_timeout;       /* seconds of silence before 421 4.4.2 */
    guint64 lmtp_command_timeout;    /* seconds one command or DATA may take */
    guint64 lmtp_recipient_limit;    /* RCPTs per transaction; past it 452 4.5.3 */
    guint64 lmtp_memory_budget;      /* bytes all messages in flight may use */
    guint64 lmtp_message_cpu_budget; /* CPU seconds one message may take */
    guint64 delivery_memory_limit; /* RLIMIT_AS of the pipe agent in bytes, 0: none */
    guint64 delivery_cpu_limit;    /* soft RLIMIT_CPU of the pipe agent in seconds, 0: none */
    /* The database (issue 14): SET LOCAL in each transaction, seconds, 0 = the server's. */
    guint64 database_lock_timeout;
    guint64 database_statement_timeout;
    int after_queue_refusal; /* AfterQueueRefusal */
    /* Retention (issue 18), seconds. spool_keep_success 0 keeps no copy at
     * all; for the others 0 keeps forever. */
    guint64 spool_keep_success;
    guint64 spool_keep_failure;
    guint64 database_keep;
    guint64 refusals_keep;
    guint64 tombstones_keep;
} Config;

/* config_resolve_path - --config, then $REPLYGATE_CONFIG, then the default */
const char *config_resolve_path(const char *cli_path);

/* config_load - read and check a configuration file */
Config *config_load(const char *path, GError **error);

/* config_parse - check configuration text; filename is used in messages only */
Config *config_parse(const char *text, gsize len, const char *filename, GError **error);

/* config_free - release a configuration (NULL-safe) */
void config_free(Config *config);

/* config_names - the NULL-terminated list of every configuration name */
const char *const *config_names(void);

/* config_is_reply_domain - is domain (any case) one of the reply domains? */
gboolean config_is_reply_domain(const Config *config, const char *domain);

/* config_is_action_kind - is kind (any case) one of action_kinds? */
gboolean config_is_action_kind(const Config *config, const char *kind);

/* config_unix_socket_path - the file of a unix: or local: milter socket (or a
 * bare absolute path) inside socket, else NULL */
const char *config_unix_socket_path(const char *socket);

/* config_value_text - a name's value as replygate.conf(5) writes it ("yes",
 * "7d", "none", ...); NULL for an unknown name (new string) */
char *config_value_text(const Config *config, const char *name);

/* config_parse_duration - "30", "30s", "5m", "2h", "7d", "1w" into seconds */
gboolean config_parse_duration(const char *text, guint64 *seconds);

/* config_format_duration - seconds as "7d", "2h", "90s" or "0" (new string) */
char *config_format_duration(guint64 seconds);

/* tls_version_rank - order TLS version names: SSLv3 < TLSv1 < ... < TLSv1.3; -1 if unknown */
int tls_version_rank(const char *version);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Config, config_free)

#endif
