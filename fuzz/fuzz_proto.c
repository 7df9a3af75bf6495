/*  fuzz_proto - every msgpack message a tscache socket takes, through the
    codec (common/ts_proto*.c) as that socket decodes it.

    The first byte picks the socket, by its dialogue (ts_proto.h):
        0  a gateway's client socket and the broker's control socket
           (TS_DIALOGUE_CLIENT: both decode the same requests)
        1  a client waiting for a reply (TS_DIALOGUE_REPLIES)
        2  the broker's worker socket (TS_DIALOGUE_WORKER)
        3  a worker's socket to the broker (TS_DIALOGUE_BROKER)
        4  a gateway's SUB socket of change notices (TS_DIALOGUE_NOTICE)
    and the rest is the frame, decoded with the sockets' limit
    (TS_PROTO_MAX_REQUEST). A message that decodes must encode, its
    encoding must decode again (into the same ts_msg_t, as a socket's
    loop reuses one) and encode to the same bytes: the codec is its own
    oracle. */

#include "fuzz.h"
#include "ts_proto.h"

#define S_DIALOGUES 5

static void
s_check_round_trip (ts_msg_t *msg)
{
    char *first = NULL, *second = NULL;
    size_t first_size = 0, second_size = 0;
    char err [TS_ERRLEN];
    if (ts_msg_encode (msg, &first, &first_size))
        return;                     //  out of memory
    if (ts_msg_decode (msg, first, first_size, SIZE_MAX, err) != 0)
        abort ();                   //  the codec cannot read what it wrote
    if (ts_msg_encode (msg, &second, &second_size) == 0
    &&  (second_size != first_size
    ||   memcmp (first, second, first_size) != 0))
        abort ();                   //  a field changed on the way
    free (first);
    free (second);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    unsigned dialogue;
    if (!fuzz_mode (&data, &size, S_DIALOGUES, &dialogue))
        return 0;
    ts_msg_t *msg = ts_msg_new (TS_OP_REPLY);
    if (!msg)
        return 0;
    char err [TS_ERRLEN];
    if (ts_msg_decode_in (msg, (ts_dialogue_t) dialogue, data, size,
                          TS_PROTO_MAX_REQUEST, err) == 0) {
        if (!ts_dialogue_accepts ((ts_dialogue_t) dialogue, msg->op))
            abort ();               //  a socket took another's message
        s_check_round_trip (msg);
    }
    ts_msg_destroy (&msg);
    return 0;
}
