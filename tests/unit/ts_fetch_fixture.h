/*  ts_fetch_fixture - what the unit tests of ts_fetch share
    (tests/unit/test_ts_fetch.c, test_ts_fetch_classify.c): the fetch
    options of a worker with the default limits. Header-only. */

#ifndef TS_FETCH_FIXTURE_H_INCLUDED
#define TS_FETCH_FIXTURE_H_INCLUDED

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../workers/ts_fetch.h"

static const ts_fetch_opts_t s_opts = {
    .max_active = 4,
    .connect_timeout_ms = 5000,
    .timeout_ms = 30000,
    .max_body_bytes = 16777216,
    .headers = NULL
};

#endif
