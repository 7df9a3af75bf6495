/*  ts_accept - picks a series answer's encoding from format and Accept.
    See ts_accept.h. The header is read in place, element by element;
    nothing is allocated. */

#include "ts_accept.h"

#include <string.h>
#include <strings.h>

//  How well one encoding is asked for: the weight (0..1000) and the
//  specificity (0 none, 1 */*, 2 type/*, 3 exact) and position of the
//  range that gave it.
typedef struct {
    int    weight;
    int    specificity;
    size_t position;
} s_ask_t;

static bool
s_blank (char c)
{
    return c == ' ' || c == '\t';
}

//  The first c in [p, end), or NULL.
static const char *
s_find (const char *p, const char *end, char c)
{
    for (; p < end; p++)
        if (*p == c)
            return p;
    return NULL;
}

//  Reads a q value ("1", "0.5", "1.000") of len bytes at p into *weight
//  (thousandths). Returns false if it is not one.
static bool
s_qvalue (const char *p, size_t len, int *weight)
{
    if (len == 0 || (p [0] != '0' && p [0] != '1') || len > 5
    ||  (len > 1 && p [1] != '.') || len == 2)
        return false;
    int value = (p [0] - '0') * 1000;
    int scale = 100;
    for (size_t i = 2; i < len; i++, scale /= 10) {
        if (p [i] < '0' || p [i] > '9')
            return false;
        value += (p [i] - '0') * scale;
    }
    if (value > 1000)
        return false;
    *weight = value;
    return true;
}

//  Reads the weight of one element's parameters (text after the media
//  range, up to end): q=..., others ignored. Returns false if a q is
//  malformed (the element is then ignored).
static bool
s_weight (const char *p, const char *end, int *weight)
{
    *weight = 1000;
    while (p < end) {
        const char *next = s_find (p, end, ';');
        const char *stop = next? next: end;
        while (p < stop && s_blank (*p))
            p++;
        const char *last = stop;
        while (last > p && s_blank (last [-1]))
            last--;
        if (last - p >= 2 && (p [0] == 'q' || p [0] == 'Q') && p [1] == '='
        &&  !s_qvalue (p + 2, (size_t) (last - p - 2), weight))
            return false;
        p = next? next + 1: end;
    }
    return true;
}

//  Records that the range at position (specificity s, weight w) names
//  an encoding: the most specific range wins (RFC 9110 12.5.1).
static void
s_note (s_ask_t *ask, int s, int w, size_t position)
{
    if (s > ask->specificity) {
        ask->specificity = s;
        ask->weight = w;
        ask->position = position;
    }
}

//  True if the range (len bytes) is literally text (case-insensitive).
static bool
s_is (const char *range, size_t len, const char *text)
{
    return strlen (text) == len && strncasecmp (range, text, len) == 0;
}

//  Reads the Accept value into json and csv.
static void
s_read (const char *accept, size_t len, s_ask_t *json, s_ask_t *csv)
{
    const char *p = accept;
    const char *end = accept + len;
    size_t position = 0;
    while (p < end) {
        const char *comma = s_find (p, end, ',');
        const char *stop = comma? comma: end;
        while (p < stop && s_blank (*p))
            p++;
        const char *semi = s_find (p, stop, ';');
        const char *range_end = semi? semi: stop;
        while (range_end > p && s_blank (range_end [-1]))
            range_end--;
        size_t range_len = (size_t) (range_end - p);
        int w;
        if (range_len && s_weight (semi? semi + 1: stop, stop, &w)) {
            if (s_is (p, range_len, "*/*")) {
                s_note (json, 1, w, position);
                s_note (csv, 1, w, position);
            }
            else
            if (s_is (p, range_len, "application/*"))
                s_note (json, 2, w, position);
            else
            if (s_is (p, range_len, "application/json"))
                s_note (json, 3, w, position);
            else
            if (s_is (p, range_len, "text/*"))
                s_note (csv, 2, w, position);
            else
            if (s_is (p, range_len, "text/csv"))
                s_note (csv, 3, w, position);
            position++;
        }
        p = comma? comma + 1: end;
    }
}

int
ts_accept_series (const char *format, const char *accept, size_t len,
                  ts_accept_t *out, char *err)
{
    *out = TS_ACCEPT_JSON;
    if (format && *format) {
        if (strcmp (format, "json") == 0)
            return 0;
        if (strcmp (format, "csv") == 0) {
            *out = TS_ACCEPT_CSV;
            return 0;
        }
        ts_errf (err, "format: expected json or csv, got '%.40s'", format);
        return 400;
    }
    size_t i = 0;
    while (accept && i < len && s_blank (accept [i]))
        i++;
    if (!accept || i == len)
        return 0;
    s_ask_t json = { 0, 0, 0 }, csv = { 0, 0, 0 };
    s_read (accept, len, &json, &csv);
    if (json.weight == 0 && csv.weight == 0) {
        ts_errf (err, "Accept: '%.*s' names no encoding this answer has: "
                 "it serves application/json or text/csv",
                 (int) (len < 60? len: 60), accept);
        return 406;
    }
    if (csv.weight > json.weight
    ||  (csv.weight == json.weight && csv.position < json.position))
        *out = TS_ACCEPT_CSV;
    return 0;
}
