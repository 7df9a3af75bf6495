/*  ts_worker - the worker's loop: the dialogue with the broker and the
    work of each job (fetch every id, map, split at now, store).

    A DEALER connects to worker.broker_endpoint and announces
    worker.concurrency free slots ("ready"); each "job" takes one slot
    until every id of it has been fetched and stored, then the job is
    reported "done", or "failed" with a detail naming an id and its
    cause, whether a retry may help and the upstream's Retry-After (see
    ts_fetch_classify), and the slot is offered again ("ready" credit 1). Fetches run concurrently through
    ts_fetch; the loop waits in curl_multi_poll with the socket's ZMQ_FD
    as an extra descriptor.

    Heartbeats go to the broker every second. If nothing comes back for
    5 s the socket is recreated and the free slots announced again; jobs
    in flight keep running and report on the new socket (the broker
    ignores reports for jobs it gave to someone else: at-least-once).
    Every 60 s expired forecasts are purged from the store.

    Stopping: when zsys_interrupted is set (SIGINT or SIGTERM through
    czmq's handler) the worker drains. It takes no more jobs, lets the
    jobs in flight finish for up to worker.drain_timeout_ms, then hands
    the unfinished ones back to the broker ("release", docs/protocol.md
    5.19), which queues them again at once. A second signal ends the
    drain at once (unfinished jobs then wait out their leases). */

#ifndef TS_WORKER_H_INCLUDED
#define TS_WORKER_H_INCLUDED

#include "ts_common.h"
#include "ts_config.h"

typedef struct _ts_worker_t ts_worker_t;

//  Opens the store, reads the upstream API key (if upstream.api_key_env
//  or upstream.api_key_file is set, a missing key is an error; {api_key}
//  in upstream.url or upstream.headers without either is one too),
//  prepares the fetcher and connects to the broker. The key never shows
//  in err, in a log line or in a failure detail. cfg is borrowed and must
//  outlive the worker. Returns NULL with the reason in err (TS_ERRLEN).
ts_worker_t *ts_worker_new (const ts_config_t *cfg, char *err);

//  Aborts fetches in flight and frees everything; sets *self_p to NULL.
//  Safe on NULL.
void ts_worker_destroy (ts_worker_t **self_p);

//  Applies a reload (ts_daemon_reload) to the worker, read again from its
//  cfg (applied, the keys changed, is not needed: everything is read
//  again): each source's upstream key is read again (upstream.api_key_env
//  or _file: a rotated key file takes effect) and its request headers
//  rebuilt for the fetches started from now on (those running finish
//  with the old ones); each source's OAuth2 client too. Logs "reload:
//  upstream API key: changed (source NAME)", never the key. Returns 0,
//  or a TS_E* code (logged; that source's running headers and key are
//  kept, the others' reloaded).
int ts_worker_apply (ts_worker_t *self, const ts_strlist_t *applied);

//  Runs the loop until interrupted, then drains (above) and returns:
//  0, or -1 if libcurl failed. Clears zsys_interrupted once, when the
//  drain starts, to see a second signal.
//  Calls ts_daemon_tick once per turn (SIGHUP: main's reload), and
//  writes a summary line at info every 10 s (ts_tally).
int ts_worker_run (ts_worker_t *self);

#endif
