/*  ts_envelope - the request-reply framing of tscache's ROUTER sockets
    (docs/protocol.md section 3.2), shared by the gateway's front end,
    the gateway's forwarding to the broker and the broker's control
    socket, so that all three cut and rebuild messages the same way.

    A request, as a ROUTER receives it, is

        [routing id] [more envelope frames ...] [empty delimiter] [body]

    The envelope is every frame up to and including the first empty one
    after the routing id: a REQ client's is [routing id][empty]; a DEALER
    may put frames of its own before the delimiter (a proxy's routing
    ids, a correlation id) and gets them back. The reply is the envelope
    unchanged, then exactly one body frame. The broker's control socket
    also serves the bare form [routing id][body] of a DEALER that sends
    no delimiter, and answers it [routing id][reply].

    Framing only: bodies are neither decoded nor encoded here (that is
    ts_proto). */

#ifndef TS_ENVELOPE_H_INCLUDED
#define TS_ENVELOPE_H_INCLUDED

#include "ts_common.h"
#include <czmq.h>

//  Splits msg, a message as a ROUTER (or a DEALER reading replies)
//  received it, into its envelope and its body. Every frame up to and
//  including the first empty frame after the first one moves into
//  *envelope, a new message the caller destroys; msg keeps the rest.
//  Without an empty frame, *envelope holds the first frame alone (the
//  routing id, so that the peer can still be answered) and msg the rest.
//  Returns 0 if msg is then exactly one frame, the body: after a
//  delimiter, or (if bare) without one. Otherwise returns TS_EPROTO with
//  the reason in err ("expected one body frame after the delimiter, got
//  2"; "expected an empty delimiter frame before the body"); *envelope
//  is set all the same, except for an empty msg (NULL). TS_ENOMEM with
//  *envelope NULL if out of memory.
int ts_envelope_split (zmsg_t *msg, bool bare, zmsg_t **envelope, char *err);

//  Sends the frames of *envelope_p, then size bytes of data as the last
//  frame, without blocking (ZMQ_DONTWAIT). data is malloc'd and taken
//  over: handed to libzmq without a copy and freed once sent, or freed
//  here if the send fails. Destroys the envelope and sets *envelope_p to
//  NULL. Returns 0 or the errno of the failed send (EAGAIN: pipe full;
//  EHOSTUNREACH: a mandatory ROUTER's peer is gone).
int ts_envelope_send (zmsg_t **envelope_p, zsock_t *sock, char *data,
                      size_t size);

#endif
