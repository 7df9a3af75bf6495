/*  ts_accept - which encoding a GET /v1/series answer is written in:
    JSON or CSV, from the format parameter and the Accept header.

    Pure: no I/O, no state. The route (ts_route) calls it before the
    query and answers its refusals; the answer's encoders are ts_json
    and ts_csv. Errors are always JSON, whatever was asked.

    Rules (docs/http-api.md, "CSV"):
    - format=json or format=csv wins over Accept; any other value is 400.
    - Without format, Accept is read as RFC 9110 says (12.5.1): a list of
      media ranges with an optional q weight (0 to 1, three decimals at
      most). application/json, "application/" + "*" and "*" + "/" + "*"
      serve JSON; text/csv and "text/" + "*" serve CSV. Each encoding gets the weight
      of the most specific range that names it; the heavier one wins; at
      equal weights the one whose range comes first in the header, and
      JSON when one range (the any-type range) names both. A range with q=0 refuses.
    - No Accept (or an empty one): JSON.
    - An Accept that names neither encoding with a weight above 0
      ("application/xml", "text/csv;q=0, application/json;q=0"): 406. */

#ifndef TS_ACCEPT_H_INCLUDED
#define TS_ACCEPT_H_INCLUDED

#include "ts_common.h"

//  The encodings of a series answer.
typedef enum {
    TS_ACCEPT_JSON,             //  application/json (the default)
    TS_ACCEPT_CSV               //  text/csv; charset=utf-8
} ts_accept_t;

//  Picks the encoding from format (the format parameter; NULL or "": not
//  given) and accept (the Accept value, len bytes; NULL: no header) into
//  *out. Returns 0; 400 with "format: expected json or csv, got '...'"
//  in err (TS_ERRLEN bytes); or 406 with "Accept: ... serves
//  application/json or text/csv" in err.
int ts_accept_series (const char *format, const char *accept, size_t len,
                      ts_accept_t *out, char *err);

#endif
