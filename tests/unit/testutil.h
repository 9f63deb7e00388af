/*
 * testutil.h - one habit for the table-driven unit tests: a failing case says
 * what it got and what it wanted, marks the test failed, and the table goes on.
 */
#ifndef RG_TESTUTIL_H
#define RG_TESTUTIL_H

#include <glib.h>

#define test_failf(...)                                                                        \
    G_STMT_START                                                                               \
    {                                                                                          \
        g_test_message(__VA_ARGS__);                                                           \
        g_test_fail();                                                                         \
    }                                                                                          \
    G_STMT_END

#endif
