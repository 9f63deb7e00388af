/*
 * serve.h - run libmilter in a thread while the main thread handles signals:
 * SIGHUP reloads the configuration snapshot, SIGTERM and SIGINT stop.
 */
#ifndef RG_MILTER_SERVE_H
#define RG_MILTER_SERVE_H

#include <glib.h>

/* serve_catch_signals - route SIGHUP, SIGTERM and SIGINT to the main thread's loop */
gboolean serve_catch_signals(GError **error);

/* serve_run - smfi_main() in a thread until SIGTERM; the exit status for main().
 * config_socket is the milter_socket listened on, or NULL when -p chose it. */
int serve_run(const char *config_path, const char *config_socket);

#endif
