/*
 * serve.h - run libmilter in a thread while the main thread handles signals:
 * SIGHUP reloads the configuration snapshot, SIGTERM and SIGINT stop; between
 * them, the chores of each second (serve.c).
 */
#ifndef RG_MILTER_SERVE_H
#define RG_MILTER_SERVE_H

#include <glib.h>

/* serve_catch_signals - route SIGHUP, SIGTERM and SIGINT to the main thread's loop */
gboolean serve_catch_signals(GError **error);

/* serve_run - smfi_main() in a thread until SIGTERM, the chores of each second
 * (reload on changed files, counters, the watchdog probe of socket) between
 * signals; the exit status for main() */
int serve_run(const char *socket);

#endif
