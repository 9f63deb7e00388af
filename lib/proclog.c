/* proclog.c - placeholder, written by the storage work (see proclog.h). */
#include <glib.h>
