/*  ts_cli_wait - what "tscache hydrate --wait" knows about the ids it
    waits for.

    A hydrate answer names, for each id, the job that will fetch it (a
    new job, or the queued or leased one it already was in). The CLI then
    asks the broker (op job_state, through the gateway) where those jobs
    are until each is done, one has failed for good, or time runs out.
    This module keeps that account: which jobs to ask about, which ids
    are stored, which job failed, and the summary in text or JSON. A job
    is "done" only when the broker says so: it was acked by a worker
    after the worker stored its ids. "dead" (dead-lettered) and "unknown"
    (the broker no longer has the job nor remembers its ack: it was
    purged or redriven from the dead-letter queue, or the broker
    restarted) are failures: no id of that job is known to be stored.

    Pure: no I/O. The CLI's main (gateway/tscache.c) does the calls, the
    clock and the printing. */

#ifndef TS_CLI_WAIT_H_INCLUDED
#define TS_CLI_WAIT_H_INCLUDED

#include "ts_common.h"
#include "ts_proto.h"
#include "ts_json.h"

typedef struct _ts_cli_wait_t ts_cli_wait_t;

//  Called once for each id that became stored, with the id (borrowed).
typedef void (ts_cli_wait_fn) (const char *id, void *arg);

//  Starts the account of the ids of a hydrate request from the broker's
//  answer (its jobs, one per id, in order). An id given twice counts
//  once. Returns NULL with the reason in err if the answer does not name
//  a job (other than 0) for each id (a broker from before job tracking),
//  or if out of memory.
ts_cli_wait_t *ts_cli_wait_new (const ts_strlist_t *ids,
                                const ts_msg_t *reply, char *err);

//  Frees the account; sets *self_p to NULL. Safe on NULL.
void ts_cli_wait_destroy (ts_cli_wait_t **self_p);

//  Resets req to a job_state request for every job that is neither done
//  nor failed. Returns 0 or TS_ENOMEM.
int ts_cli_wait_request (ts_cli_wait_t *self, ts_msg_t *req);

//  Takes a job_state answer: records each job's state, calls stored (may
//  be NULL) for each id whose job is now done, and records the first job
//  found dead or unknown. Returns 0, or TS_EPROTO with err if the answer
//  carries no states.
int ts_cli_wait_update (ts_cli_wait_t *self, const ts_msg_t *reply,
                        ts_cli_wait_fn *stored, void *arg, char *err);

//  Number of distinct ids, and of those stored so far.
size_t ts_cli_wait_total (const ts_cli_wait_t *self);
size_t ts_cli_wait_stored (const ts_cli_wait_t *self);

//  The job that failed for good (state dead or unknown), or NULL. Valid
//  until the next update.
const ts_job_info_t *ts_cli_wait_failed (const ts_cli_wait_t *self);

//  Writes into buf (size bytes) the ids of job, comma-separated, or the
//  ids not stored yet if job is 0, each then followed by its job's
//  state: "a (job 7 leased), b (job 8 delayed)". A list that does not
//  fit ends with "+N more". Returns buf.
char *ts_cli_wait_ids (const ts_cli_wait_t *self, uint64_t job, char *buf,
                       size_t size);

//  Appends the account as JSON: {"total":n,"stored":n,"ids":[{"id",
//  "job","state","receives","error"},...]}, ids ascending. Returns 0 or
//  TS_ENOMEM.
int ts_cli_wait_json (const ts_cli_wait_t *self, ts_json_t *json);

#endif
