/*  ts_envelope - request-reply framing on ROUTER sockets. See
    ts_envelope.h. */

#include "ts_envelope.h"

#include <errno.h>
#include <stdlib.h>

int
ts_envelope_split (zmsg_t *msg, bool bare, zmsg_t **envelope, char *err)
{
    *envelope = NULL;
    if (zmsg_size (msg) == 0) {
        ts_errf (err, "empty message");
        return TS_EPROTO;
    }
    //  The envelope ends at the first empty frame after the routing id.
    size_t delimiter = 0;
    size_t index = 0;
    for (zframe_t *frame = zmsg_first (msg); frame;
         frame = zmsg_next (msg), index++)
        if (index > 0 && zframe_size (frame) == 0) {
            delimiter = index;
            break;
        }
    zmsg_t *head = zmsg_new ();
    if (!head)
        return TS_ENOMEM;
    for (size_t i = 0; i <= delimiter; i++) {
        zframe_t *frame = zmsg_pop (msg);
        zmsg_append (head, &frame);
    }
    *envelope = head;
    size_t bodies = zmsg_size (msg);
    if (delimiter == 0 && !(bare && bodies == 1)) {
        ts_errf (err, "expected an empty delimiter frame before the body");
        return TS_EPROTO;
    }
    if (bodies != 1) {
        ts_errf (err, "expected one body frame after the delimiter, got %zu",
                 bodies);
        return TS_EPROTO;
    }
    return 0;
}

//  Frees a body once libzmq has sent it.
static void
s_free_body (void *data, void *hint)
{
    free (data);
}

int
ts_envelope_send (zmsg_t **envelope_p, zsock_t *sock, char *data,
                  size_t size)
{
    void *handle = zsock_resolve (sock);
    zmsg_t *envelope = *envelope_p;
    int rc = 0;
    for (zframe_t *frame = envelope? zmsg_first (envelope): NULL;
         frame && rc == 0; frame = zmsg_next (envelope))
        if (zmq_send (handle, zframe_data (frame), zframe_size (frame),
                      ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1)
            rc = zmq_errno ();
    zmsg_destroy (envelope_p);
    zmq_msg_t body;
    if (rc != 0 || zmq_msg_init_data (&body, data, size, s_free_body, NULL)) {
        free (data);
        return rc? rc: zmq_errno ();
    }
    if (zmq_msg_send (&body, handle, ZMQ_DONTWAIT) == -1) {
        rc = zmq_errno ();
        zmq_msg_close (&body);          //  frees data
    }
    return rc;
}
