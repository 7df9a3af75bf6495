/*  ts_common - error codes, limits, names, time and string lists shared by
    every tscache process.

    Everything here is small and pure (no sockets, no store). Error codes
    are negative TS_E* values; positive codes are errno values, so a single
    ts_strerror() names both, as LMDB's mdb_strerror() does. */

#ifndef TS_COMMON_H_INCLUDED
#define TS_COMMON_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TS_ERRLEN   256     //  size of every caller-provided err buffer
#define TS_NAME_MAX 128     //  longest id or measure name, in bytes

//  Error codes. Append only, never renumber.
enum {
    TS_OK        =  0,
    TS_EINVAL    = -1,      //  bad argument or bad input value
    TS_EPROTO    = -2,      //  malformed message or document
    TS_ENOTFOUND = -3,      //  unknown id, key or file
    TS_ETOOBIG   = -4,      //  over a size limit
    TS_EBACKEND  = -5,      //  storage backend failed
    TS_ENOMEM    = -6,      //  allocation failed
    TS_ECONFIG   = -7,      //  bad configuration
    TS_EUPSTREAM = -8,      //  upstream API failed
    TS_ETIMEOUT  = -9,      //  timed out
    TS_EAUTH     = -10,     //  missing or wrong credentials
    TS_EDIALOGUE = -11      //  a message of another dialogue (ts_proto)
};

//  Returns a static, human-readable name for a TS_E* code (< 0) or an
//  errno value (> 0). Never NULL.
const char *ts_strerror (int code);

//  Fills err (TS_ERRLEN bytes, may be NULL) with a formatted message.
//  Always NUL-terminates; truncates silently.
void ts_errf (char *err, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

//  Names (series ids and measure names). The one rule, for new names: 1
//  to TS_NAME_MAX characters, each of [A-Za-z0-9._:-], the first not '-'
//  (so that a name can never be taken for a command-line option), and
//  not "." or ".." (which browsers, curl and proxies resolve away as
//  URL path segments, so that GET /v1/series/.. could never reach the
//  id). Names are checked with ts_name_valid before they reach any
//  store, URL or query language.
//
//  Names registered before those two clauses may start with '-' or be
//  "." or "..". So that a store holding one loses nothing, the layers
//  that carry names already stored (the wire codec, the job queue, the
//  store's reads, writes and removal, a lookup of a registered id) check
//  them with ts_name_existing, which is the same rule without them.
//  Where a name is created (ids add, config) only ts_name_valid applies.
//
//  TS_NAME_RULE says the rule in words, for every error message that
//  rejects a name; ts_name_errf writes that message.
#define TS_STR_(x) #x
#define TS_STR(x)  TS_STR_(x)
#define TS_NAME_RULE "1 to " TS_STR (TS_NAME_MAX) " characters of " \
                     "[A-Za-z0-9._:-], not starting with '-', not . or .."

//  True if s is a valid new name (see above). False for NULL.
bool ts_name_valid (const char *s);

//  Same check on a buffer that is not NUL-terminated.
bool ts_name_valid_n (const char *s, size_t len);

//  True if s is a valid name or one registered before the rule's last
//  clauses (it may start with '-', or be "." or ".."). False for NULL.
bool ts_name_existing (const char *s);

//  Same check on a buffer that is not NUL-terminated.
bool ts_name_existing_n (const char *s, size_t len);

//  Writes "invalid WHAT 'NAME': use TS_NAME_RULE" into err (TS_ERRLEN
//  bytes, may be NULL), NAME being the first 64 bytes of s (len bytes,
//  need not be NUL-terminated) with bytes outside printable ASCII shown
//  as '?'. what is e.g. "id" or "measure".
void ts_name_errf (char *err, const char *what, const char *s, size_t len);

//  Request ids ("rid"): made by the gateway for each request it serves
//  (or taken from the client's X-Request-Id), carried to the broker, into
//  the jobs it queues and to the workers, so that one id finds every log
//  line of a request (docs/protocol.md, docs/architecture.md "Logs").
//  A rid is 1 to TS_RID_MAX characters of [A-Za-z0-9._:-]; the gateway
//  makes 16 lower-case hex digits.
#define TS_RID_MAX  64

//  True if the len bytes at s are a well-formed rid. False for NULL.
bool ts_rid_valid_n (const char *s, size_t len);

//  Writes a new random rid (16 hex digits) into buf, which holds at least
//  TS_RID_MAX + 1 bytes. Returns buf. Thread-safe.
char *ts_rid_new (char *buf);

//  Current wall-clock time in epoch milliseconds (CLOCK_REALTIME).
int64_t ts_now_ms (void);

//  Monotonic clock in milliseconds, for timeouts and intervals.
int64_t ts_mono_ms (void);

//  Parses a time given as an integer of epoch milliseconds ("1732406400000",
//  optionally negative) or as RFC 3339 ("2024-11-24T00:00:00Z",
//  "2024-11-24T00:00:00.123+01:00"). Returns 0 and sets *ms, or TS_EINVAL.
int ts_time_parse (const char *s, int64_t *ms);

//  Days from 1970-01-01 to the civil date y-m-d (proleptic Gregorian,
//  m 1..12, d 1..31; negative before 1970).
int64_t ts_days_from_civil (int64_t y, int m, int d);

//  Parses ISO 8601 / RFC 3339 date-times as found in upstream documents:
//  like ts_time_parse's RFC 3339 form, but also accepts a missing seconds
//  field ("2024-11-24T00:00"), a space instead of 'T', and no zone
//  (taken as UTC). Returns 0 and sets *ms, or TS_EINVAL.
int ts_time_parse_iso (const char *s, size_t len, int64_t *ms);

//  Formats ms as RFC 3339 UTC with milliseconds ("2024-11-24T00:00:00.000Z")
//  into buf (at least 32 bytes). Returns buf.
char *ts_time_format (int64_t ms, char *buf, size_t size);

//  Copies src into dst (size bytes), always NUL-terminated. Returns 0, or
//  TS_ETOOBIG if src did not fit (dst then holds a truncated copy).
int ts_strlcpy (char *dst, const char *src, size_t size);

//  Appends text percent-encoded (every byte but A-Z a-z 0-9 - . _ ~ as
//  %XX, upper-case hex) at out [*used], keeping out (size bytes)
//  NUL-terminated, and advances *used. Returns false, with out holding
//  what fitted, if the whole encoding did not fit.
bool ts_percent_encode (char *out, size_t size, size_t *used,
                        const char *text);

//  Creates directory path and its missing parents (like mkdir -p) with
//  mode. Returns 0 (also if it exists as a directory) or an errno value
//  (ENOTDIR if path exists and is not a directory).
int ts_mkdirs (const char *path, unsigned mode);

//  Constant-time comparison of two byte strings: true if equal. Time
//  depends only on the lengths, never on where they differ.
bool ts_secure_equal (const void *a, size_t alen, const void *b, size_t blen);

//  ---------------------------------------------------------------------
//  A growable list of owned strings. Cleared, it keeps its strings'
//  buffers (up to TS_STRLIST_KEEP of them) for the next appends, so a
//  list reused for one message after another does not allocate once it
//  has grown (the broker's hot path relies on it). Change items only
//  through the functions below: a pointer into the list is good until
//  the list is cleared, popped, set at that index or destroyed.

#define TS_STRLIST_KEEP 1024        //  buffers a clear keeps at most

typedef struct {
    char  **items;          //  n owned, NUL-terminated strings; then the
                            //  buffers kept for reuse, up to kept
    size_t  n;              //  number of items
    size_t  cap;            //  allocated slots (items, room)
    size_t  kept;           //  buffers allocated, n <= kept <= cap
    size_t *room;           //  bytes of each buffer
} ts_strlist_t;

//  Returns an empty list, or NULL if out of memory.
ts_strlist_t *ts_strlist_new (void);

//  Frees the list and its strings; sets *self_p to NULL. Safe on NULL.
void ts_strlist_destroy (ts_strlist_t **self_p);

//  Appends a copy of s (len bytes, need not be NUL-terminated).
//  Returns 0 or TS_ENOMEM.
int ts_strlist_append_n (ts_strlist_t *self, const char *s, size_t len);

//  Appends a copy of the NUL-terminated s. Returns 0 or TS_ENOMEM.
int ts_strlist_append (ts_strlist_t *self, const char *s);

//  Replaces item i (< n) with a copy of s. Returns 0 or TS_ENOMEM (the
//  item is then unchanged).
int ts_strlist_set (ts_strlist_t *self, size_t i, const char *s);

//  Removes the last item, if any.
void ts_strlist_pop (ts_strlist_t *self);

//  Removes every item (keeps the allocations, see above). An append may
//  move the items array itself: a copy of items is good until then.
void ts_strlist_clear (ts_strlist_t *self);

//  True if the list holds a string equal to s.
bool ts_strlist_contains (const ts_strlist_t *self, const char *s);

//  ---------------------------------------------------------------------
//  A set of strings that live in the caller's array, for finding the
//  repeats in a batch: open addressing over their indexes (FNV-1a),
//  reset from one batch to the next without allocating once grown.
//  Zero-initialise it; free it with ts_strset_free.

typedef struct {
    uint32_t *slots;        //  index + 1 of a string added; 0: empty
    size_t    size;         //  slots in use since the last reset, a power
                            //  of two (about 2 n)
    size_t    cap;          //  slots allocated
} ts_strset_t;

//  Empties the set and makes room for n strings; a reset clears about
//  2 n slots, whatever the set once grew to. Returns 0 or TS_ENOMEM.
int ts_strset_reset (ts_strset_t *self, size_t n);

//  The index of the first string added that equals strs [i], or i
//  itself after adding it (strs [i] is new). Every index added must
//  still be valid in strs; at most the n of the last reset, i <
//  UINT32_MAX.
size_t ts_strset_add (ts_strset_t *self, const char *const *strs, size_t i);

//  Frees the set's slots (it may be reset and used again).
void ts_strset_free (ts_strset_t *self);

#endif
