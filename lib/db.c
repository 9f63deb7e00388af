/* db.c - placeholder, written by the storage work (see db.h). */
#include <glib.h>
