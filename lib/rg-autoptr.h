/*
 * rg-autoptr.h - g_autoptr cleanups that GMime 3.2 and libpq do not declare.
 *
 * One private header, so that every file can write g_autoptr(PGresult) and
 * g_autoptr(GMimeMessage) without declaring the cleanup twice.
 */
#ifndef RG_AUTOPTR_H
#define RG_AUTOPTR_H

#include <glib.h>
#include <glib-object.h>
#include <gmime/gmime.h>
#include <libpq-fe.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PGconn, PQfinish)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PGresult, PQclear)

#ifndef GMIME_HAS_AUTOPTR
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeObject, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeMessage, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeFilter, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeDataWrapper, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(InternetAddressList, g_object_unref)
#endif

#endif
