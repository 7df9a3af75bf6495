/*  fuzz_cron - the broker's cron parser (common/ts_cron.c) on any text.

    The input is a cron expression as it would come from
    broker.schedule; a parsed one is also asked for its next matches
    from a few instants (the epoch, 2024-11-24, a leap day, near the
    end of int64 milliseconds' useful range), which walks its bit sets. */

#include "fuzz.h"
#include "ts_cron.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size > 256)
        return -1;                  //  no config line is longer; keeps it fast
    char *expr = fuzz_cstr (data, size);
    if (!expr)
        return 0;
    ts_cron_t cron;
    char err [TS_ERRLEN];
    if (ts_cron_parse (&cron, expr, err) == 0) {
        static const int64_t after [] = {
            0, 1732406400000LL, 951782400000LL, 253402300799000LL, -1
        };
        for (size_t i = 0; i < sizeof after / sizeof after [0]; i++) {
            int64_t next = ts_cron_next (&cron, after [i]);
            if (next != -1 && next <= after [i])
                abort ();           //  "strictly after", as ts_cron.h says
            int64_t shifted = ts_cron_next_shifted (&cron, after [i], 12345);
            if (shifted != -1 && shifted <= after [i])
                abort ();           //  shifted: strictly after too
        }
    }
    free (expr);
    return 0;
}
