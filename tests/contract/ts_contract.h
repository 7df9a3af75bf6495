/*  ts_contract - what the contract suites share: the backend under test.

    A suite runs every test once per backend of its seam
    (ts_contract_run). The backend's name comes from the suite's table;
    TSCACHE_CONTRACT_BACKEND=NAME runs only that one (a backend under
    development). */

#ifndef TS_CONTRACT_H_INCLUDED
#define TS_CONTRACT_H_INCLUDED

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Whether backend name is to be run in this invocation.
static inline bool
ts_contract_wanted (const char *name)
{
    const char *only = getenv ("TSCACHE_CONTRACT_BACKEND");
    return !only || !*only || strcmp (only, name) == 0;
}

//  Runs tests (n of them) once per wanted backend of a suite's table:
//  count entries of size bytes at backends, each beginning with its name
//  (a const char *). Each run is a cmocka group "SUITE (NAME)" whose
//  tests get the backend's entry as initial state. Returns how many
//  tests failed.
static inline int
ts_contract_run (const char *suite, struct CMUnitTest *tests, size_t n,
                 const void *backends, size_t size, size_t count)
{
    int failed = 0;
    for (size_t b = 0; b < count; b++) {
        const void *backend = (const char *) backends + b * size;
        const char *name = *(const char *const *) backend;
        if (!ts_contract_wanted (name))
            continue;
        for (size_t i = 0; i < n; i++)
            tests [i].initial_state = (void *) backend;
        char group [64];
        snprintf (group, sizeof group, "%s (%s)", suite, name);
        failed += _cmocka_run_group_tests (group, tests, n, NULL, NULL);
    }
    return failed;
}

#endif
