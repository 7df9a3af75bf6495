/*  ts_hydrator - sends the gateway's read-through fetches from a thread
    of its own. See ts_hydrator.h.

    Callers append ids to a list under a mutex and write an eventfd; the
    thread polls that eventfd and its client's socket (zmq_poll takes
    both), sends one hydrate per id, and lets the client judge each
    answer. The context of a request is its ask (s_ask_t: the id and the
    caller's tag). */

#include "ts_hydrator.h"
#include "ts_log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

//  A write or read of an eventfd whose failure needs nothing done.
#define S_IGNORE(call)  do { if ((call) < 0) {} } while (0)

#define S_POLL_MS   250

//  What came with an id handed over (ts_hydrator_ask).
typedef struct {
    int64_t  read_ms;               //  sent as skip_fetched_since
    uint64_t tag;                   //  given back to ended
} s_handed_t;

struct _ts_hydrator_t {
    ts_client_t  *client;           //  used by the thread only
    ts_hydrator_ended_fn *ended;
    void         *arg;
    int           wake_fd;          //  eventfd: ids wait, or stop
    pthread_mutex_t lock;
    ts_strlist_t *waiting;          //  ids handed over, under lock
    s_handed_t   *waiting_with;     //  what came with each, under lock
    s_handed_t   *sending_with;     //  the same, swapped out, thread only
    ts_msg_t     *request;          //  scratch, thread only
    ts_msg_t     *reply;            //  scratch, thread only
    pthread_t     thread;
    bool          started;
    atomic_bool   stop;
    atomic_ullong sent;
};

//  A hydrate sent, waiting for its answer (the client's context).
typedef struct {
    uint64_t tag;
    char     id [];
} s_ask_t;

static void
s_done (void *arg, void *ctx, ts_op_t op, int rc, ts_msg_t *reply)
{
    ts_hydrator_t *self = arg;
    s_ask_t *ask = ctx;
    (void) op;
    if (rc != 0 || reply->status != 202) {
        ts_warn ("read-through: fetch of %s not queued: %d %s", ask->id,
                 reply->status, reply->detail);
        self->ended (self->arg, ask->id, ask->tag, reply->status,
                     reply->detail);
    }
    else
    if (reply->jobs_n == 1 && reply->jobs [0] == 0) {
        ts_debug ("read-through: %s fetched since it was read, not again",
                  ask->id);
        self->ended (self->arg, ask->id, ask->tag, 202,
                     "fetched since it was read");
    }
    free (ask);
}

//  Sends every id that waits.
static void
s_send_waiting (ts_hydrator_t *self)
{
    pthread_mutex_lock (&self->lock);
    ts_strlist_t *ids = self->waiting;
    self->waiting = ts_strlist_new ();
    if (ids)
        memcpy (self->sending_with, self->waiting_with,
                ids->n * sizeof (s_handed_t));
    pthread_mutex_unlock (&self->lock);
    for (size_t i = 0; ids && i < ids->n; i++) {
        size_t len = strlen (ids->items [i]);
        s_ask_t *ask = malloc (sizeof (s_ask_t) + len + 1);
        ts_msg_reset (self->request, TS_OP_HYDRATE);
        self->request->priority = true;
        self->request->skip_fetched_since_ms = self->sending_with [i].read_ms;
        ts_rid_new (self->request->rid);
        if (!ask || ts_strlist_append (self->request->ids, ids->items [i])) {
            free (ask);
            self->ended (self->arg, ids->items [i],
                         self->sending_with [i].tag, 500, "out of memory");
            continue;
        }
        ask->tag = self->sending_with [i].tag;
        memcpy (ask->id, ids->items [i], len + 1);
        atomic_fetch_add (&self->sent, 1);
        ts_debug ("read-through: priority hydrate of %s (rid %s)", ask->id,
                  self->request->rid);
        if (ts_client_send (self->client, self->request, ask, self->reply)) {
            self->ended (self->arg, ask->id, ask->tag, self->reply->status,
                         self->reply->detail);
            free (ask);
        }
    }
    ts_strlist_destroy (&ids);
}

static void *
s_run (void *arg)
{
    ts_hydrator_t *self = arg;
    int64_t wait = -1;
    while (!atomic_load (&self->stop)) {
        zmq_pollitem_t items [] = {
            { NULL, self->wake_fd, ZMQ_POLLIN, 0 },
            { zsock_resolve (ts_client_sock (self->client)), 0,
              ts_client_poll_events (self->client), 0 }
        };
        long timeout = wait < 0 || wait > S_POLL_MS? S_POLL_MS: (long) wait;
        if (zmq_poll (items, 2, timeout) == -1 && zmq_errno () != EINTR)
            break;
        if (items [0].revents & ZMQ_POLLIN) {
            uint64_t count;
            //  Unchecked: EAGAIN: another wake took it
            S_IGNORE (read (self->wake_fd, &count, sizeof count));
            s_send_waiting (self);
        }
        wait = ts_client_process (self->client);
    }
    return NULL;
}

ts_hydrator_t *
ts_hydrator_new (const char *endpoint, const ts_client_policy_t *policy,
                 ts_hydrator_ended_fn *ended, void *arg, char *err)
{
    ts_hydrator_t *self = calloc (1, sizeof (ts_hydrator_t));
    if (!self) {
        ts_errf (err, "out of memory");
        return NULL;
    }
    self->ended = ended;
    self->arg = arg;
    self->wake_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init (&self->lock, NULL);
    atomic_init (&self->stop, false);
    atomic_init (&self->sent, 0);
    if (self->wake_fd < 0 || !(self->waiting = ts_strlist_new ())
    ||  !(self->waiting_with = calloc (TS_HYDRATOR_BACKLOG,
                                       sizeof (s_handed_t)))
    ||  !(self->sending_with = calloc (TS_HYDRATOR_BACKLOG,
                                       sizeof (s_handed_t)))
    ||  !(self->request = ts_msg_new (TS_OP_HYDRATE))
    ||  !(self->reply = ts_msg_new (TS_OP_REPLY))) {
        ts_errf (err, "read-through: out of memory");
        ts_hydrator_destroy (&self);
        return NULL;
    }
    self->client = ts_client_new (endpoint, policy, s_done, self, err);
    if (!self->client) {
        ts_hydrator_destroy (&self);
        return NULL;
    }
    //  The client is made here and used by the thread only from now on
    //  (the thread start orders the two).
    if (pthread_create (&self->thread, NULL, s_run, self) != 0) {
        ts_errf (err, "cannot start the read-through thread");
        ts_hydrator_destroy (&self);
        return NULL;
    }
    self->started = true;
    return self;
}

void
ts_hydrator_destroy (ts_hydrator_t **self_p)
{
    if (self_p && *self_p) {
        ts_hydrator_t *self = *self_p;
        if (self->started) {
            atomic_store (&self->stop, true);
            uint64_t one = 1;
            //  Unchecked: the poll times out anyway
            S_IGNORE (write (self->wake_fd, &one, sizeof one));
            pthread_join (self->thread, NULL);
        }
        ts_client_destroy (&self->client);
        if (self->wake_fd >= 0)
            close (self->wake_fd);
        ts_strlist_destroy (&self->waiting);
        free (self->waiting_with);
        free (self->sending_with);
        ts_msg_destroy (&self->request);
        ts_msg_destroy (&self->reply);
        pthread_mutex_destroy (&self->lock);
        free (self);
        *self_p = NULL;
    }
}

int
ts_hydrator_ask (ts_hydrator_t *self, const char *id, int64_t read_ms,
                 uint64_t tag)
{
    int rc = 0;
    pthread_mutex_lock (&self->lock);
    if (!self->waiting)
        rc = TS_ENOMEM;
    else
    if (self->waiting->n >= TS_HYDRATOR_BACKLOG)
        rc = TS_ETOOBIG;
    else {
        self->waiting_with [self->waiting->n] = (s_handed_t) {
            .read_ms = read_ms > 0? read_ms: 0, .tag = tag };
        rc = ts_strlist_append (self->waiting, id);
    }
    pthread_mutex_unlock (&self->lock);
    if (rc == 0) {
        uint64_t one = 1;
        //  Unchecked: the count is full: a wake is due anyway
        S_IGNORE (write (self->wake_fd, &one, sizeof one));
    }
    return rc;
}

uint64_t
ts_hydrator_sent (ts_hydrator_t *self)
{
    return atomic_load (&self->sent);
}
