/*  ts_store_lmdb_run - runs of numbered points and the codec that packs
    them: what a history block (ts_store_lmdb_history.c) and a forecast
    record (ts_store_lmdb_points.c) hold, and the way from a point list
    to a run and back.

    A run is points in parallel arrays (time, measure number, value),
    ascending by time, then measure number, one per (time, measure).

    Encoded, a run is

        kind (1)    S_RAW: values are 8-byte doubles;
                    S_SCALED: values are decimals, see below
        scale (1)   S_SCALED: the power of ten (0..S_SCALE_MAX)
        points      per point: varint time delta (from the point before;
                    the first one's from a base the caller keeps: a
                    block's key, 0 for a forecast), varint measure
                    number, then the value: S_RAW, 8 bytes (native
                    order); S_SCALED, zigzag varint of n - the previous
                    point's n, where value == (double) n / 10^scale

    Most upstreams send decimals with a few digits (21.37), which
    S_SCALED keeps in one to three bytes. A value goes in scaled only if
    that division gives back its exact bits (the encoder does the
    decoder's division and compares), so no value is ever changed; a run
    with any value that does not (1/3, NaN, -0) is S_RAW. Points five
    minutes apart cost 3 bytes of time, one of measure: about 6 bytes a
    point of short decimals, 12 of other doubles.

    Part of the LMDB backend (ts_store_lmdb.h). Decoding trusts nothing
    it reads: a run that breaks any rule above is TS_EBACKEND. */

#include <stdlib.h>
#include <string.h>

#include "ts_store_lmdb.h"

#define S_HEAD         TS_STORE_LMDB_CODEC_HEAD     //  kind, scale
#define S_POINT_MAX    TS_STORE_LMDB_CODEC_POINT
#define S_RAW          1
#define S_SCALED       2
#define S_SCALE_MAX    12
//  |n| below 2^53: every n is exact as a double, deltas fit a varint.
#define S_SCALED_MAX   9007199254740992.0

static const double s_pow10 [S_SCALE_MAX + 1] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12
};

//  --- runs ------------------------------------------------------------------

void
ts_store_lmdb_run_fini (ts_store_lmdb_run_t *self)
{
    free (self->time_ms);
    free (self->measure);
    free (self->value);
    memset (self, 0, sizeof *self);
}

int
ts_store_lmdb_run_reserve (ts_store_lmdb_run_t *self, size_t n)
{
    if (n <= self->size)
        return 0;
    size_t size = self->size? self->size: 64;
    while (size < n)
        size *= 2;
    int64_t *time_ms = realloc (self->time_ms, size * sizeof *time_ms);
    if (time_ms)
        self->time_ms = time_ms;
    uint16_t *measure = realloc (self->measure, size * sizeof *measure);
    if (measure)
        self->measure = measure;
    double *value = realloc (self->value, size * sizeof *value);
    if (value)
        self->value = value;
    if (!time_ms || !measure || !value)
        return TS_ENOMEM;
    self->size = size;
    return 0;
}

//  Orders indexes of a run by time, then measure, then index.
static int
s_index_order (const void *a, const void *b, void *arg)
{
    const ts_store_lmdb_run_t *run = arg;
    size_t i = *(const size_t *) a, j = *(const size_t *) b;
    int cmp = ts_store_lmdb_run_cmp (run, i, run, j);
    if (cmp)
        return cmp;
    return i < j? -1: i > j;
}

//  Sorts run by time, then measure, keeping the last given of equal
//  points. Returns 0 or TS_ENOMEM.
static int
s_run_sort (ts_store_lmdb_run_t *run)
{
    bool sorted = true;
    for (size_t i = 1; i < run->n && sorted; i++)
        sorted = ts_store_lmdb_run_cmp (run, i - 1, run, i) < 0;
    if (sorted)
        return 0;                       //  upstreams send them so
    size_t *order = malloc (run->n * sizeof *order);
    ts_store_lmdb_run_t copy = { 0 };
    if (!order || ts_store_lmdb_run_reserve (&copy, run->n)) {
        free (order);
        ts_store_lmdb_run_fini (&copy);
        return TS_ENOMEM;
    }
    for (size_t i = 0; i < run->n; i++)
        order [i] = i;
    qsort_r (order, run->n, sizeof *order, s_index_order, run);
    size_t kept = 0;
    for (size_t i = 0; i < run->n; i++) {
        size_t k = order [i];
        if (i + 1 < run->n
        &&  ts_store_lmdb_run_cmp (run, k, run, order [i + 1]) == 0)
            continue;                   //  a later one of equals wins
        ts_store_lmdb_run_set (&copy, kept++, run->time_ms [k],
                               run->measure [k], run->value [k]);
    }
    copy.n = kept;
    free (order);
    ts_store_lmdb_run_fini (run);
    *run = copy;
    return 0;
}

int
ts_store_lmdb_run_from (ts_store_lmdb_t *self, MDB_txn *txn, const char *id,
                        const ts_points_t *pts, ts_store_lmdb_run_t *run,
                        char *err)
{
    //  The number of each measure of the list, looked up once, on first
    //  use (a list's table may hold names none of its points use).
    uint32_t small [16];
    uint32_t *numbers = pts->n_measures <= 16? small
                      : malloc (pts->n_measures * sizeof *numbers);
    if (!numbers || ts_store_lmdb_run_reserve (run, pts->n)) {
        if (numbers != small)
            free (numbers);
        ts_errf (err, "lmdb: out of memory writing id '%s'", id);
        return TS_ENOMEM;
    }
    for (size_t j = 0; j < pts->n_measures; j++)
        numbers [j] = UINT32_MAX;
    int rc = 0;
    for (size_t i = 0; i < pts->n && rc == 0; i++) {
        uint16_t m = pts->measure [i];
        if (numbers [m] == UINT32_MAX) {
            uint16_t no;
            const char *name = pts->measures [m];
            rc = ts_store_lmdb_measure_number (self, txn, name, strlen (name),
                                               true, &no, err);
            if (rc)
                break;
            numbers [m] = no;
        }
        ts_store_lmdb_run_set (run, i, pts->time_ms [i],
                               (uint16_t) numbers [m], pts->value [i]);
    }
    run->n = rc? 0: pts->n;
    if (numbers != small)
        free (numbers);
    if (rc == 0 && s_run_sort (run) != 0) {
        ts_errf (err, "lmdb: out of memory writing id '%s'", id);
        rc = TS_ENOMEM;
    }
    return rc;
}

//  --- the codec -------------------------------------------------------------

static inline unsigned char *
s_varint_put (unsigned char *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (unsigned char) (v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char) v;
    return p;
}

//  Reads a varint at *p (before end) into *v. Returns false if it runs
//  past end or over 64 bits.
static inline bool
s_varint_get (const unsigned char **p, const unsigned char *end,
              uint64_t *v)
{
    uint64_t out = 0;
    for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
        unsigned char byte = *(*p)++;
        out |= (uint64_t) (byte & 0x7f) << shift;
        if (byte < 0x80) {
            *v = out;
            return true;
        }
    }
    return false;
}

static inline uint64_t
s_zigzag (int64_t v)
{
    return ((uint64_t) v << 1) ^ (uint64_t) (v >> 63);
}

static inline int64_t
s_unzigzag (uint64_t v)
{
    return (int64_t) (v >> 1) ^ -(int64_t) (v & 1);
}

//  Whether value is (double) n / 10^scale exactly, bit for bit; sets *n.
static inline bool
s_scaled (double value, int scale, int64_t *n)
{
    double s = value * s_pow10 [scale];
    if (!(s > -S_SCALED_MAX && s < S_SCALED_MAX))
        return false;                   //  too large, or NaN
    int64_t i = (int64_t) (s < 0? s - 0.5: s + 0.5);
    double back = (double) i / s_pow10 [scale];
    if (memcmp (&back, &value, sizeof back) != 0)
        return false;                   //  not a short decimal, or -0
    *n = i;
    return true;
}

//  The smallest scale above at_least that keeps value exactly, or -1.
static int
s_scale_for (double value, int at_least)
{
    int64_t n;
    for (int scale = at_least + 1; scale <= S_SCALE_MAX; scale++)
        if (s_scaled (value, scale, &n))
            return scale;
    return -1;
}

size_t
ts_store_lmdb_encode (const ts_store_lmdb_run_t *run, size_t from,
                      size_t max, int64_t base_ms, unsigned char *buf,
                      size_t cap, size_t *size, int *scale)
{
    size_t end = run->n - from > max? from + max: run->n;
again:
    buf [0] = *scale < 0? S_RAW: S_SCALED;
    buf [1] = *scale < 0? 0: (unsigned char) *scale;
    unsigned char *p = buf + S_HEAD;
    int64_t prev_time = base_ms, prev_n = 0;
    size_t i;
    for (i = from; i < end; i++) {
        if ((size_t) (p - buf) + S_POINT_MAX > cap)
            break;                      //  full
        int64_t n = 0;
        if (*scale >= 0 && !s_scaled (run->value [i], *scale, &n)) {
            //  A value with more decimals than the scale: start again at
            //  a scale that keeps it, or raw.
            *scale = s_scale_for (run->value [i], *scale);
            goto again;
        }
        p = s_varint_put (p, (uint64_t) run->time_ms [i]
                             - (uint64_t) prev_time);
        p = s_varint_put (p, run->measure [i]);
        if (*scale < 0) {
            memcpy (p, &run->value [i], sizeof (double));
            p += sizeof (double);
        }
        else {
            p = s_varint_put (p, s_zigzag (n - prev_n));
            prev_n = n;
        }
        prev_time = run->time_ms [i];
    }
    *size = (size_t) (p - buf);
    return i - from;
}

int
ts_store_lmdb_decode_each (const unsigned char *data, size_t len,
                           int64_t base_ms, size_t max,
                           ts_store_lmdb_point_fn *fn, void *arg,
                           size_t *count)
{
    *count = 0;
    const unsigned char *p = data, *end = data + len;
    if (len < S_HEAD || (p [0] != S_RAW && p [0] != S_SCALED)
    ||  (p [0] == S_SCALED && p [1] > S_SCALE_MAX))
        return TS_EBACKEND;
    bool raw = p [0] == S_RAW;
    double div = s_pow10 [raw? 0: p [1]];
    p += S_HEAD;
    uint64_t time = (uint64_t) base_ms;
    int64_t n = 0, last_ms = 0;
    uint16_t last_measure = 0;
    size_t i = 0;
    while (p < end) {
        //  The whole point is read and checked before it is handed on.
        uint64_t delta, measure, zz;
        double value;
        if (i == max || !s_varint_get (&p, end, &delta)
        ||  !s_varint_get (&p, end, &measure) || measure > UINT16_MAX)
            return TS_EBACKEND;
        if (raw) {
            if (end - p < (ptrdiff_t) sizeof (double))
                return TS_EBACKEND;
            memcpy (&value, p, sizeof (double));
            p += sizeof (double);
        }
        else {
            if (!s_varint_get (&p, end, &zz))
                return TS_EBACKEND;
            n = (int64_t) ((uint64_t) n + (uint64_t) s_unzigzag (zz));
            value = (double) n / div;
        }
        //  Ascending (time, measure), strictly, and never past INT64_MAX
        //  (the first point's delta is from base_ms: any).
        if (i > 0 && (delta > (uint64_t) INT64_MAX - (uint64_t) last_ms
                      || (delta == 0 && measure <= last_measure)))
            return TS_EBACKEND;
        time += delta;
        last_ms = (int64_t) time;
        last_measure = (uint16_t) measure;
        i++;
        *count = i;
        int rc = fn (arg, last_ms, last_measure, value);
        if (rc)
            return rc == 1? 0: rc;
    }
    return 0;
}

//  Appends a point to the run arg (room made by the caller).
static int
s_run_append (void *arg, int64_t time_ms, uint16_t measure, double value)
{
    ts_store_lmdb_run_t *run = arg;
    if (run->n >= run->size)
        return TS_EBACKEND;             //  cannot be: 3 bytes a point
    ts_store_lmdb_run_set (run, run->n++, time_ms, measure, value);
    return 0;
}

int
ts_store_lmdb_decode (const unsigned char *data, size_t len,
                      int64_t base_ms, size_t max, ts_store_lmdb_run_t *out)
{
    out->n = 0;
    //  A point takes 3 bytes at least: room for them all at once.
    size_t most = len > S_HEAD? (len - S_HEAD) / 3: 0;
    if (ts_store_lmdb_run_reserve (out, most < max? most: max))
        return TS_ENOMEM;
    size_t count;
    int rc = ts_store_lmdb_decode_each (data, len, base_ms, max,
                                        s_run_append, out, &count);
    if (rc)
        out->n = 0;
    return rc;
}

//  --- back to point lists -----------------------------------------------

int
ts_store_lmdb_names_index (ts_store_lmdb_t *self, MDB_txn *txn,
                           ts_store_lmdb_names_t *map, uint16_t no,
                           ts_points_t *out, uint16_t *index, char *err)
{
    if (no >= map->size) {
        size_t size = map->size? map->size: 16;
        while (size <= no)
            size *= 2;
        uint32_t *grown = realloc (map->index, size * sizeof *grown);
        if (!grown)
            return TS_ENOMEM;
        memset (grown + map->size, 0, (size - map->size) * sizeof *grown);
        map->index = grown;
        map->size = size;
    }
    if (map->index [no] == 0) {
        const char *name;
        size_t len;
        uint16_t at;
        int rc = ts_store_lmdb_measure_name (self, txn, no, &name, &len, err);
        if (rc == 0)
            rc = ts_points_measure_index (out, name, len, &at);
        if (rc)
            return rc;
        map->index [no] = (uint32_t) at + 1;
    }
    *index = (uint16_t) (map->index [no] - 1);
    return 0;
}

//  Orders measure indexes of a list by name.
static int
s_name_order (const void *a, const void *b, void *arg)
{
    char **measures = arg;
    return strcmp (measures [*(const uint16_t *) a],
                   measures [*(const uint16_t *) b]);
}

int
ts_store_lmdb_sort_names (ts_points_t *out, size_t start)
{
    if (out->n_measures < 2)
        return 0;
    bool runs = false;
    for (size_t i = start + 1; i < out->n && !runs; i++)
        runs = out->time_ms [i] == out->time_ms [i - 1];
    if (!runs)
        return 0;
    uint16_t *order = malloc (out->n_measures * sizeof *order);
    uint16_t *rank = malloc (out->n_measures * sizeof *rank);
    if (!order || !rank) {
        free (order);
        free (rank);
        return TS_ENOMEM;
    }
    for (size_t j = 0; j < out->n_measures; j++)
        order [j] = (uint16_t) j;
    qsort_r (order, out->n_measures, sizeof *order, s_name_order,
             out->measures);
    for (size_t j = 0; j < out->n_measures; j++)
        rank [order [j]] = (uint16_t) j;
    //  Insertion sort by rank: runs are short, and most are in order.
    for (size_t i = start + 1; i < out->n; i++) {
        if (out->time_ms [i] != out->time_ms [i - 1]
        ||  rank [out->measure [i]] > rank [out->measure [i - 1]])
            continue;
        uint16_t m = out->measure [i];
        double value = out->value [i];
        size_t k = i;
        while (k > start && out->time_ms [k - 1] == out->time_ms [i]
           &&  rank [out->measure [k - 1]] > rank [m]) {
            out->measure [k] = out->measure [k - 1];
            out->value [k] = out->value [k - 1];
            k--;
        }
        out->measure [k] = m;
        out->value [k] = value;
    }
    free (order);
    free (rank);
    return 0;
}
