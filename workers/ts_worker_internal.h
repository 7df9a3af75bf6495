/*  ts_worker_internal - what the files of the worker share; not for
    callers (the contract is ts_worker.h).

    ts_worker is one module written as three files, one job each:

      ts_worker.c         construction and teardown, the upstream key and
                          headers (read at start, again on reload), the
                          loop (wait, completions, timers) and the drain
      ts_worker_broker.c  the dialogue with the broker: the DEALER and its
                          reconnect, ready, release, heartbeats, reading
                          the socket, the "done" reports remembered until
                          confirmed and resent
      ts_worker_jobs.c    the jobs: a slot per job, its fetches started,
                          fetched documents into the ingest's batch, each
                          id stored or failed, the job reported
      ts_worker_request.c the request of each id: URL, body and headers
                          from the templates, the OAuth2 token (ids held
                          until it arrives, sent again once on a 401)
      ts_worker_keys.c    each source's API key and headers: read at
                          start and on reload, sent with its requests,
                          every key scrubbed from every detail
      ts_worker_status.c  the ids' fetch status: failure marks kept and
                          stored per finished job, {last_fetched} read

    Only workers/ts_worker*.c include this header. */

#ifndef TS_WORKER_INTERNAL_H_INCLUDED
#define TS_WORKER_INTERNAL_H_INCLUDED

#include "ts_worker.h"
#include "ts_curve.h"
#include "ts_fetch.h"
#include "ts_ingest.h"
#include "ts_pages.h"
#include "ts_oauth2.h"
#include "ts_proto.h"
#include "ts_store.h"
#include "ts_tally.h"
#include "ts_url.h"
#include "ts_worker_metrics.h"

#include <czmq.h>

#define HEARTBEAT_MS    1000        //  heartbeat period
#define URL_MAX         4096        //  longest upstream URL
#define REPORTS_MAX     8192        //  "done" reports remembered at most
#define BODY_MAX        16384       //  longest request body built

//  A fetch's tag: the slot << 32 | the id's index in the job, and
//  TAG_RETRIED on the one retry after a 401 (ts_worker_request.c);
//  TAG_TOKEN (i) is the OAuth2 token request of source i.
#define TAG_RETRIED     ((uint64_t) 1 << 62)
#define TAG_TOKEN(i)    (((uint64_t) 1 << 63) | (uint64_t) (i))
#define TAG_IS_TOKEN(tag)       ((tag) >> 63)
#define TAG_TOKEN_SOURCE(tag)   ((size_t) ((tag) & 0xffff))
#define TAG_SLOT(tag)   ((size_t) (((tag) >> 32) & 0xffff))
#define TAG_INDEX(tag)  ((size_t) ((tag) & 0xffffffffu))
//  The OAuth2 token a data request carried: ts_oauth2_obtained's low
//  TAG_GEN_BITS bits, in bits 48 to 61 (ts_oauth2_reject).
#define TAG_GEN_BITS    14
#define TAG_GEN_MASK    ((((uint64_t) 1 << TAG_GEN_BITS) - 1) << 48)
#define TAG_GEN(gen)    (((uint64_t) (gen) << 48) & TAG_GEN_MASK)
#define TAG_GEN_OF(tag) ((size_t) (((tag) & TAG_GEN_MASK) >> 48))

//  One source's context (ts_worker_source.c): what its jobs are fetched
//  and stored with, read from its view of the config at start.
typedef struct {
    const ts_config_t *cfg;         //  the source's view (borrowed)
    const char    *name;            //  its name (the view's)
    const char    *url_tmpl;        //  upstream.url
    ts_url_time_t  time_unit;       //  upstream.time_param
    int64_t        past_ms;         //  {from} = now - past_ms
    int64_t        future_ms;       //  {to} = now + future_ms
    ts_ingest_t   *ingest;          //  map (upstream.format), split,
                                    //  write in batches; owned
    ts_pages_spec_t pages;          //  upstream.pagination.*
    //  The request (ts_worker_request.c)
    bool           post;            //  upstream.method is POST
    const char    *body_tmpl;       //  upstream.body, "" none
    ts_url_escape_t body_esc;       //  by upstream.body_type
    const char    *content_type;    //  sent with a POST, NULL if
                                    //  upstream.headers sets one
    ts_oauth2_t   *oauth2;          //  the source's token, NULL if
                                    //  upstream.oauth2.token_url is ""
    ts_oauth2_t   *old_oauth2;      //  the one before the last reload
                                    //  that changed the client, kept to
                                    //  scrub its token; NULL if none
    uint64_t      *held;            //  tags of ids waiting for a token
    size_t         held_n;          //  how many
    size_t         held_max;        //  room in held
    //  The key and headers (ts_worker_keys.c)
    char          *api_key;         //  upstream.api_key_*, owned and
                                    //  wiped when freed; NULL if none
    char          *old_key;         //  the key before the last reload,
                                    //  for transfers that started with
                                    //  it; same care, NULL if none
    ts_strlist_t  *headers;         //  upstream.headers and the key's
                                    //  header, sent with every request
    //  The ids' fetch status (ts_worker_status.c)
    int64_t        refetch_recent_ms;   //  upstream.refetch_recent_s
    int64_t        not_found_ttl_ms;    //  upstream.not_found_ttl_s
    bool           uses_last_fetched;   //  url or body has {last_fetched}
} ts_worker_source_t;

//  A failure mark waiting for the store (ts_worker_status.c).
typedef struct {
    char          id [TS_NAME_MAX + 1];
    char          kind [32];
    char          detail [TS_ERRLEN];   //  scrubbed of every key
    int64_t       at_ms;
    int64_t       not_found_until_ms;
} ts_worker_mark_t;

//  A "done" the broker may not have received yet.
typedef struct {
    uint64_t      job;              //  job id
    int64_t       sent_ms;          //  monotonic time it was sent
    uint64_t      boot;             //  broker process it went to (as far
                                    //  as the worker knew; 0 unknown)
} ts_worker_report_t;

//  A document in the ingest's batch, at the same index there.
typedef struct {
    size_t        slot;             //  the job's slot
    int64_t       fetch_ms;         //  how long the fetch took
    int64_t       started_ms;       //  monotonic: when mapping began
} ts_worker_pending_t;

//  One id of a job fetched in pages (upstream.pagination.mode).
typedef struct {
    ts_pages_t    *pages;           //  its next page; NULL once settled
    ts_points_t   *points;          //  its pages mapped so far, owned
} ts_worker_paged_t;

//  A job in flight: one of worker.concurrency.
typedef struct {
    bool          used;             //  a job holds this slot
    uint64_t      job;              //  job id from the broker
    char          rid [TS_RID_MAX + 1];     //  its request id, "" none
    char          source [TS_NAME_MAX + 1]; //  its source, "" the first
    bool          has_window;       //  the job named its window:
    int64_t       from_ms;          //  fetch from_ms .. to_ms, not
    int64_t       to_ms;            //  now - past_s .. now + future_s
    ts_strlist_t *ids;              //  ids of the job, owned
    ts_strlist_t *written;          //  ids of it stored so far, owned
    bool          written_lost;     //  one could not be listed: report
                                    //  none, which means every id
    size_t        pending;          //  fetches not completed yet
    ts_fetch_verdict_t verdict;     //  failures so far, merged
    ts_worker_paged_t *paged;       //  per id, if the upstream pages;
                                    //  else NULL (ts_worker_pages.c)
    const ts_worker_source_t *src;  //  its source's context; NULL: the
                                    //  job named none this worker knows
} ts_worker_slot_t;

struct _ts_worker_t {
    const ts_config_t *cfg;         //  borrowed
    ts_curve_id_t *curve;           //  own key pair, the broker's public
                                    //  key; NULL in plain mode
    ts_curve_watch_t *watch;        //  logs the broker refusing our key
    ts_store_t    *store;
    ts_worker_source_t *sources;    //  one per source of the config
    size_t         nsources;
    char           source_names [TS_ERRLEN / 2];   //  "a, b", for errors
    ts_worker_source_t *batch_source;   //  whose ingest holds the batch
                                        //  (a batch is of one source)
    ts_fetch_t    *fetch;           //  no headers or key of its own:
                                    //  each source's go per request
    ts_fetch_opts_t fetch_opts;     //  limits, for failure details
    zsock_t       *dealer;          //  to the broker, recreated on silence
    const char    *endpoint;        //  worker.broker_endpoint
    size_t         concurrency;     //  slots
    ts_worker_slot_t *slots;        //  one per job in flight
    size_t         busy;            //  slots in use
    int64_t        last_heard_ms;   //  monotonic: last message from broker
    uint64_t       broker_boot;     //  boot id of its last heartbeat
    ts_worker_report_t *reports;    //  ring of unconfirmed "done" reports
    size_t         reports_head;    //  index of the oldest
    size_t         reports_n;       //  how many are remembered
    int64_t        next_beat_ms;    //  monotonic: next heartbeat
    int64_t        next_expire_ms;  //  monotonic: next expiry sweep
    ts_msg_t      *msg;             //  scratch: incoming
    ts_msg_t      *out;             //  scratch: outgoing
    ts_worker_pending_t *batch;     //  the ingest's batch: our part
    size_t         batch_max;       //  min (BATCH_MAX, concurrency)
    int64_t        drain_ms;        //  worker.drain_timeout_ms
    bool           draining;        //  stopping: no more jobs taken
    int64_t        drain_until_ms;  //  monotonic: hand back the rest then
    ts_worker_metrics_t *metrics;   //  fetch figures, worker.metrics_port
    ts_tally_t     tally;           //  counts of the INFO summary line
    int64_t        next_tally_ms;   //  monotonic: next summary line
    ts_worker_mark_t *marks;        //  failure marks not stored yet
    size_t         marks_n;         //  how many
    size_t         marks_max;       //  room in marks
};

//  ---------------------------------------------------------------------
//  ts_worker_broker.c: the broker dialogue

//  (Re)creates the DEALER to worker.broker_endpoint and introduces the
//  worker with a ready for its free slots (0 while draining). Returns 0,
//  or TS_ENOMEM or TS_ECONFIG (cannot connect) with the reason in err.
int ts_worker_broker_connect (ts_worker_t *self, char *err);

//  Encodes msg and sends it without blocking; a failure is logged.
void ts_worker_broker_send (ts_worker_t *self, const ts_msg_t *msg);

//  Sends "ready" offering credit more slots.
void ts_worker_broker_ready (ts_worker_t *self, size_t credit);

//  Sends "release" handing the n jobs back (docs/protocol.md 5.19); with
//  none it says only "no more jobs".
void ts_worker_broker_release (ts_worker_t *self, const uint64_t *jobs,
                               size_t n);

//  Remembers a "done" of job just sent, until a heartbeat of the same
//  broker process confirms it; the oldest is forgotten when full.
void ts_worker_broker_remember (ts_worker_t *self, uint64_t job);

//  Sends every remembered "done" again (after a reconnect).
void ts_worker_broker_resend (ts_worker_t *self);

//  Reads every message waiting on the DEALER: a job starts
//  (ts_worker_job_start), a heartbeat confirms reports; anything else is
//  logged and dropped. Call before every wait (ZMQ_FD is edge-triggered).
void ts_worker_broker_read (ts_worker_t *self);

//  ---------------------------------------------------------------------
//  ts_worker_jobs.c: the jobs

//  Takes the job msg into a free slot and starts a fetch per id (or, while
//  draining, hands it straight back; with no free slot, fails it with
//  retry). A job none of whose fetches could start is reported at once.
void ts_worker_job_start (ts_worker_t *self, const ts_msg_t *msg);

//  One fetch completed: a failure is folded into its job; a document is
//  added to the ingest's batch, which is stored when full. A job is
//  reported after its last id is settled.
void ts_worker_job_fetched (ts_worker_t *self, const ts_fetch_result_t *res);

//  Stores the batch (one transaction, else document by document) and
//  settles each document's id and job. Leaves the batch empty.
void ts_worker_job_flush (ts_worker_t *self);

//  Records the failure of id (one's detail is scrubbed of every secret,
//  logged and folded into the slot's verdict); for ts_worker_pages.c.
void ts_worker_job_fail_verdict (ts_worker_t *self, ts_worker_slot_t *slot,
                                 const char *id,
                                 const ts_fetch_verdict_t *one);

//  ---------------------------------------------------------------------
//  ts_worker_pages.c: ids fetched in pages (upstream.pagination.mode)

//  Starts the pages of id i (of n) of the slot's job at url, the request
//  upstream.url gives; *first is then the URL to fetch (borrowed until
//  the page completes). Returns 0, or TS_EINVAL / TS_ENOMEM with err.
int ts_worker_pages_start (ts_worker_t *self, ts_worker_slot_t *slot,
                           size_t i, size_t n, const char *url,
                           const char **first, char *err);

//  A page of id i of the slot's job completed: a failure fails the id
//  whole, naming the page ("id=x: page 3: upstream HTTP 500"); else the
//  page is mapped into the id's points and either the next page is
//  fetched or, after the last, the id's points go into the ingest's
//  batch as one document.
void ts_worker_pages_fetched (ts_worker_t *self, ts_worker_slot_t *slot,
                              size_t i, const ts_fetch_result_t *res);

//  Frees the slot's page states (at the end of its job).
void ts_worker_pages_clear (ts_worker_slot_t *slot);

//  ---------------------------------------------------------------------
//  ts_worker_source.c: the sources' contexts

//  Builds one context per source of cfg (the store and batch_max set
//  before). Returns 0, or a TS_E* code with "WHERE: reason" in err.
int ts_worker_sources_new (ts_worker_t *self, const ts_config_t *cfg,
                           char *err);

//  Frees the contexts (and their ingests' unflushed batches).
void ts_worker_sources_destroy (ts_worker_t *self);

//  The context of the source called name (NULL or "": the first), or
//  NULL if this worker has none of that name.
const ts_worker_source_t *ts_worker_source_find (const ts_worker_t *self,
                                                 const char *name);

//  The ingest of the slot's source, its batch made the worker's current
//  one: a batch is of one source (its ingest maps by the source's spec),
//  so the batch in hand of another source is stored first.
ts_ingest_t *ts_worker_job_batch (ts_worker_t *self, ts_worker_slot_t *slot);

//  Records the failure of id, of kind (one of ts_fetch_kinds), in the
//  slot's job; what and why make its detail (ts_fetch_verdict_fail).
//  Every secret the worker holds is scrubbed from it.
void ts_worker_job_fail (ts_worker_t *self, ts_worker_slot_t *slot,
                         const char *id, const char *kind, bool retry,
                         const char *what, const char *why);

//  One fetch of the slot's job is settled; the job is reported after
//  its last.
void ts_worker_job_ended (ts_worker_t *self, ts_worker_slot_t *slot);

//  ---------------------------------------------------------------------
//  ts_worker_request.c: the request of an id

//  Reads upstream.method, upstream.body, upstream.body_type and
//  upstream.oauth2.* of the source's view cfg into src (the OAuth2
//  client secret too). Returns 0, or a TS_E* code with err filled (never
//  a secret).
int ts_worker_request_setup (ts_worker_source_t *src, const ts_config_t *cfg,
                             char *err);

//  SIGHUP: reads each source's OAuth2 client id and secret again; if
//  either changed, the new ones (and a new token) are used from now on.
//  A source that cannot be read is logged and the running one kept.
void ts_worker_request_reload (ts_worker_t *self);

//  Frees what ts_worker_request_setup made for src (the token and
//  secrets wiped).
void ts_worker_request_teardown (ts_worker_source_t *src);

//  Sends the request of the id tag names (TAG_SLOT, TAG_INDEX), or
//  holds it until the OAuth2 token arrives (asking for one if none is
//  on its way). Returns 0 if it was sent or held: the id's fetch is
//  pending; -1 if it failed at once (recorded with ts_worker_job_fail).
int ts_worker_request_send (ts_worker_t *self, uint64_t tag);

//  Takes the completions that are the request module's own: the token
//  answer (held ids sent, or failed if no token came) and a 401 to a
//  request sent with a token (the token dropped, the id sent once
//  more). Returns true if res was taken, false if it is the job's.
bool ts_worker_request_fetched (ts_worker_t *self,
                                const ts_fetch_result_t *res);

//  Scrubs every secret of the request (the OAuth2 token and client
//  secret) from text (size bytes).
void ts_worker_request_redact (const ts_worker_t *self, char *text,
                               size_t size);

//  ---------------------------------------------------------------------
//  ts_worker_keys.c: each source's API key and headers

//  Reads src's key and builds its headers from its view (src->cfg).
//  Returns 0, or TS_ECONFIG with "source NAME: reason" in err (never
//  the key).
int ts_worker_keys_setup (ts_worker_source_t *src, char *err);

//  Wipes and frees src's keys and headers.
void ts_worker_keys_teardown (ts_worker_source_t *src);

//  SIGHUP: reads each source's key and headers again; a changed key is
//  used from now on, the one before kept to scrub what transfers still
//  running may quote. A source that cannot be read is logged and keeps
//  its running key and headers. Returns 0, or the last failure's code.
int ts_worker_keys_reload (ts_worker_t *self);

//  Queues req for src: sent with src's headers, then req's own, and
//  none of the fetcher's. Returns as ts_fetch_add_request does.
int ts_worker_keys_add (ts_worker_t *self, const ts_worker_source_t *src,
                        const ts_fetch_request_t *req, uint64_t tag);

//  Scrubs every source's keys (current and previous) and every OAuth2
//  secret (ts_worker_request_redact) from text (size bytes).
void ts_worker_keys_redact (const ts_worker_t *self, char *text,
                            size_t size);

//  The display form of url, a URL of src's (NULL: none) - its key and
//  credential parameters as ***, every other secret scrubbed - in out
//  (size bytes). Returns out.
const char *ts_worker_keys_url (const ts_worker_t *self,
                                const ts_worker_source_t *src,
                                const char *url, char *out, size_t size);

//  ts_fetch_classify under the worker's limits, with src's key (NULL:
//  none) scrubbed from the quoted body before it is cut to length.
bool ts_worker_keys_classify (const ts_worker_t *self,
                              const ts_worker_source_t *src,
                              const ts_fetch_result_t *res, const char *id,
                              ts_fetch_verdict_t *verdict);

//  ---------------------------------------------------------------------
//  ts_worker_status.c: the ids' fetch status in the store's registry

//  Reads src's status settings from its view (upstream.refetch_recent_s,
//  upstream.not_found_ttl_s) and whether its URL or body uses
//  {last_fetched}. Call after ts_worker_request_setup.
void ts_worker_status_setup (ts_worker_source_t *src);

//  {last_fetched} of id for a request of src at now_ms: the id's last
//  successful fetch minus src's refetch_recent_ms (at most now_ms), or 0
//  (the window's start) if it was never fetched, src does not use the
//  placeholder, or the store cannot say (logged at debug).
int64_t ts_worker_status_last_fetched (ts_worker_t *self,
                                       const ts_worker_source_t *src,
                                       const char *id, int64_t now_ms);

//  Keeps a failure mark of id (src may be NULL: an unknown source) from
//  one's kind, detail (already scrubbed) and, for an upstream 404, the
//  not-found time of src's not_found_ttl_ms; stored with the next
//  ts_worker_status_flush (at once when 4096 wait). A mark that finds no
//  memory is logged and lost.
void ts_worker_status_failed (ts_worker_t *self,
                              const ts_worker_source_t *src,
                              const char *id, const ts_fetch_verdict_t *one);

//  Stores the kept failure marks in one store call; a failure is logged
//  (the job's report goes on all the same). Frees nothing.
void ts_worker_status_flush (ts_worker_t *self);

#endif
