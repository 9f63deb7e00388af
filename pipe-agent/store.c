/* store.c - placeholder until its owner writes it. */
#include <glib.h>
