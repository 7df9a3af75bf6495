/*  ts_prom - the Prometheus text exposition format and its histograms
    (see ts_prom.h). The buffer grows by doubling up to its cap; a line
    that would pass the cap is dropped whole and the error kept, so that
    a scrape of a truncated text still parses. */

#include "ts_prom.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double ts_prom_latency_bounds [] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    30, 60
};
const size_t ts_prom_latency_bounds_n =
    sizeof ts_prom_latency_bounds / sizeof ts_prom_latency_bounds [0];

struct _ts_prom_t {
    char   *text;               //  the exposition, NUL-terminated
    size_t  size;               //  bytes of text
    size_t  cap;                //  bytes allocated
    size_t  max;                //  most bytes of text
    size_t  line_at;            //  where the line being written starts
    int     error;              //  first error since new or reset
};

ts_prom_t *
ts_prom_new (size_t max_bytes)
{
    assert (max_bytes > 0);
    ts_prom_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cap = max_bytes < 4096? max_bytes + 1: 4096;
    self->text = malloc (self->cap);
    if (!self->text) {
        free (self);
        return NULL;
    }
    self->max = max_bytes;
    self->text [0] = '\0';
    return self;
}

void
ts_prom_destroy (ts_prom_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        free ((*self_p)->text);
        free (*self_p);
        *self_p = NULL;
    }
}

void
ts_prom_reset (ts_prom_t *self)
{
    assert (self);
    self->size = 0;
    self->line_at = 0;
    self->error = 0;
    self->text [0] = '\0';
}

const char *
ts_prom_text (const ts_prom_t *self, size_t *size)
{
    assert (self);
    if (size)
        *size = self->size;
    return self->text;
}

int
ts_prom_error (const ts_prom_t *self)
{
    assert (self);
    return self->error;
}

//  ---------------------------------------------------------------------
//  Writing: s_put appends to the line being written; s_end_line ends it,
//  or drops it if anything failed on the way.

static void
s_fail (ts_prom_t *self, int code)
{
    if (!self->error)
        self->error = code;
}

static void
s_put (ts_prom_t *self, const char *data, size_t len)
{
    if (self->error)
        return;
    if (self->size + len > self->max) {
        s_fail (self, TS_ETOOBIG);
        return;
    }
    if (self->size + len + 1 > self->cap) {
        size_t cap = self->cap;
        while (cap < self->size + len + 1)
            cap *= 2;
        if (cap > self->max + 1)
            cap = self->max + 1;
        char *text = realloc (self->text, cap);
        if (!text) {
            s_fail (self, TS_ENOMEM);
            return;
        }
        self->text = text;
        self->cap = cap;
    }
    memcpy (self->text + self->size, data, len);
    self->size += len;
    self->text [self->size] = '\0';
}

static void
s_puts (ts_prom_t *self, const char *s)
{
    s_put (self, s, strlen (s));
}

static void
s_end_line (ts_prom_t *self)
{
    s_put (self, "\n", 1);
    if (self->error) {
        self->size = self->line_at;     //  no half line
        self->text [self->size] = '\0';
    }
    self->line_at = self->size;
}

//  Writes s with backslash and newline escaped, and the double quote too
//  if quote (label values; help text keeps its quotes).
static void
s_put_escaped (ts_prom_t *self, const char *s, bool quote)
{
    const char *run = s;
    for (; *s; s++) {
        const char *esc = *s == '\\'? "\\\\": *s == '\n'? "\\n"
                        : *s == '"' && quote? "\\\"": NULL;
        if (!esc)
            continue;
        s_put (self, run, (size_t) (s - run));
        s_puts (self, esc);
        run = s + 1;
    }
    s_put (self, run, (size_t) (s - run));
}

//  A value as the format reads it: integers exactly, others with the
//  fewest digits that read back as the same double.
#define S_VALUE_LEN     40      //  longest value text, with its NUL

static void
s_format_value (double value, char *buf)
{
    if (isnan (value))
        ts_strlcpy (buf, "NaN", S_VALUE_LEN);
    else
    if (isinf (value))
        ts_strlcpy (buf, value > 0? "+Inf": "-Inf", S_VALUE_LEN);
    else
    if (value == floor (value) && fabs (value) <= 9007199254740992.0)
        snprintf (buf, S_VALUE_LEN, "%.0f", value);
    else
        for (int digits = 15; digits <= 17; digits++) {
            snprintf (buf, S_VALUE_LEN, "%.*g", digits, value);
            if (strtod (buf, NULL) == value)
                break;
        }
}

static void
s_put_value (ts_prom_t *self, double value)
{
    char buf [S_VALUE_LEN];
    s_format_value (value, buf);
    s_puts (self, buf);
}

static bool
s_name_ok (const char *name, bool colon)
{
    if (!name || !*name || (*name >= '0' && *name <= '9'))
        return false;
    for (; *name; name++)
        if (!((*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z')
        ||    (*name >= '0' && *name <= '9') || *name == '_'
        ||    (colon && *name == ':')))
            return false;
    return true;
}

void
ts_prom_family (ts_prom_t *self, const char *name, const char *type,
                const char *help)
{
    assert (self);
    assert (s_name_ok (name, true));
    assert (type && (!strcmp (type, "counter") || !strcmp (type, "gauge")
            || !strcmp (type, "histogram") || !strcmp (type, "summary")
            || !strcmp (type, "untyped")));
    s_puts (self, "# HELP ");
    s_puts (self, name);
    s_puts (self, " ");
    s_put_escaped (self, help? help: "", false);
    s_end_line (self);
    s_puts (self, "# TYPE ");
    s_puts (self, name);
    s_puts (self, " ");
    s_puts (self, type);
    s_end_line (self);
}

//  name{labels[,le="bound"]} value
static void
s_line (ts_prom_t *self, const char *name, const char *suffix,
        const char *const *labels, size_t n, const char *le, double value)
{
    assert (s_name_ok (name, true));
    assert (n <= TS_PROM_MAX_LABELS && (labels || n == 0));
    s_puts (self, name);
    s_puts (self, suffix);
    if (n > 0 || le) {
        s_puts (self, "{");
        for (size_t i = 0; i < n; i++) {
            assert (s_name_ok (labels [2 * i], false));
            if (i > 0)
                s_puts (self, ",");
            s_puts (self, labels [2 * i]);
            s_puts (self, "=\"");
            s_put_escaped (self, labels [2 * i + 1]? labels [2 * i + 1]: "",
                           true);
            s_puts (self, "\"");
        }
        if (le) {
            s_puts (self, n > 0? ",le=\"": "le=\"");
            s_puts (self, le);
            s_puts (self, "\"");
        }
        s_puts (self, "}");
    }
    s_puts (self, " ");
    s_put_value (self, value);
    s_end_line (self);
}

void
ts_prom_sample (ts_prom_t *self, const char *name,
                const char *const *labels, size_t n, double value)
{
    assert (self);
    s_line (self, name, "", labels, n, NULL, value);
}

void
ts_prom_histogram (ts_prom_t *self, const char *name,
                   const char *const *labels, size_t n,
                   const ts_prom_hist_t *hist)
{
    assert (self);
    assert (hist && hist->n > 0 && hist->n <= TS_PROM_MAX_BUCKETS);
    uint64_t counts [TS_PROM_MAX_BUCKETS + 1];
    for (size_t i = 0; i <= hist->n; i++)
        counts [i] = atomic_load_explicit (&hist->counts [i],
                                           memory_order_relaxed);
    uint64_t sum_micro = atomic_load_explicit (&hist->sum_micro,
                                               memory_order_relaxed);
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= hist->n; i++) {
        cumulative += counts [i];
        char le [S_VALUE_LEN] = "+Inf";
        if (i < hist->n)
            s_format_value (hist->bounds [i], le);
        s_line (self, name, "_bucket", labels, n, le, (double) cumulative);
    }
    s_line (self, name, "_sum", labels, n, NULL, (double) sum_micro / 1e6);
    s_line (self, name, "_count", labels, n, NULL, (double) cumulative);
}

//  ---------------------------------------------------------------------
//  Histograms

void
ts_prom_hist_init (ts_prom_hist_t *hist, const double *bounds, size_t n)
{
    assert (hist && bounds);
    assert (n > 0 && n <= TS_PROM_MAX_BUCKETS);
    for (size_t i = 1; i < n; i++)
        assert (bounds [i - 1] < bounds [i]);
    hist->bounds = bounds;
    hist->n = n;
    for (size_t i = 0; i <= TS_PROM_MAX_BUCKETS; i++)
        atomic_init (&hist->counts [i], 0);
    atomic_init (&hist->sum_micro, 0);
}

void
ts_prom_hist_observe (ts_prom_hist_t *hist, double value)
{
    assert (hist);
    if (!(value > 0))           //  negative, NaN
        value = 0;
    size_t i = 0;
    while (i < hist->n && value > hist->bounds [i])
        i++;
    atomic_fetch_add_explicit (&hist->counts [i], 1, memory_order_relaxed);
    double micro = value * 1e6;
    atomic_fetch_add_explicit (&hist->sum_micro, micro < 1.8e19
                               ? (uint64_t) (micro + 0.5): UINT64_MAX / 2,
                               memory_order_relaxed);
}

uint64_t
ts_prom_hist_count (const ts_prom_hist_t *hist)
{
    assert (hist);
    uint64_t count = 0;
    for (size_t i = 0; i <= hist->n; i++)
        count += atomic_load_explicit (&hist->counts [i],
                                       memory_order_relaxed);
    return count;
}
