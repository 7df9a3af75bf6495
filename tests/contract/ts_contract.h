/*  ts_contract - what the contract suites share: the backend under test.

    A suite runs every test once per backend of its seam. The backend's
    name comes from the suite's table; TSCACHE_CONTRACT_BACKEND=NAME runs
    only that one (a backend under development). */

#ifndef TS_CONTRACT_H_INCLUDED
#define TS_CONTRACT_H_INCLUDED

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

//  Whether backend name is to be run in this invocation.
static inline bool
ts_contract_wanted (const char *name)
{
    const char *only = getenv ("TSCACHE_CONTRACT_BACKEND");
    return !only || !*only || strcmp (only, name) == 0;
}

#endif
