/*  zmqecho - the ZeroMQ limit for the query benchmark (make bench).

    A bare libzmq ROUTER server that answers every request with the same
    fixed reply, so figure 2 can show what any ZeroMQ server does on this
    machine for tscache's reply size, as nginx serving a static file shows
    it for HTTP. bench/bench captures one real reply of the gateway to the
    benchmark query (msgpack) and passes it as --reply-file, so
    build/bench/zmqload checks and counts these replies exactly as it does
    the gateway's.

    One ROUTER socket, one application thread (and libzmq's one I/O
    thread), a blocking loop: receive a request (every frame), send back
    its envelope as received (the routing id and every frame up to and
    including the empty delimiter) followed by one body frame holding the
    reply. The body is a constant message over a static buffer
    (zmq_msg_init_data without a free function), so answering allocates
    nothing beyond what libzmq does itself. The request body is not read.

    It deliberately does nothing else: no decoding, no per-request work,
    no statistics. It runs until SIGINT or SIGTERM and then exits 0; the
    bench stops it. Exit status 1 if the socket fails, 2 on a bad option
    or reply file. */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#define S_MAX_REPLY     (64 * 1024 * 1024)
#define S_MAX_ENVELOPE  16          //  frames before the body, at most

static volatile sig_atomic_t s_interrupted = 0;

static void
s_on_signal (int sig)
{
    s_interrupted = 1;
}

static void
s_usage (FILE *out)
{
    fprintf (out,
"usage: zmqecho --bind EP (--reply-bytes N | --reply-file F)\n"
"\n"
"A bare ZeroMQ ROUTER server for make bench: answers every request with\n"
"the same reply, behind the request's envelope (routing id and frames up\n"
"to the empty delimiter), as a REP socket would.\n"
"\n"
"  --bind EP          endpoint to bind, e.g. tcp://127.0.0.1:5600\n"
"  --reply-bytes N    reply size in bytes (1 to %d); alone: N bytes of a\n"
"                     fixed pattern; with --reply-file: must be its size\n"
"  --reply-file F     reply with the bytes of file F\n"
"  --help             this text\n"
"\n"
"Prints \"zmqecho: bound EP, reply B bytes\" once listening and runs until\n"
"SIGINT or SIGTERM; exit 0 then, 1 if the socket fails, 2 on a bad\n"
"option or reply file.\n", S_MAX_REPLY);
}

//  Reads file path whole into a new buffer (caller frees). Returns the
//  buffer and its size in *size, or NULL (reason on stderr).
static char *
s_read_file (const char *path, size_t *size)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        fprintf (stderr, "zmqecho: cannot open %s: %s\n", path,
                 strerror (errno));
        return NULL;
    }
    long n = -1;
    if (fseek (f, 0, SEEK_END) == 0)
        n = ftell (f);
    rewind (f);
    char *buf = n > 0 && n <= S_MAX_REPLY? malloc ((size_t) n): NULL;
    bool ok = buf && fread (buf, 1, (size_t) n, f) == (size_t) n;
    fclose (f);
    if (n <= 0 || n > S_MAX_REPLY)
        fprintf (stderr, "zmqecho: %s: %s (1 to %d bytes)\n", path,
                 n < 0? "not a regular file": n? "too big": "empty",
                 S_MAX_REPLY);
    else
    if (!ok)
        fprintf (stderr, "zmqecho: cannot read %s\n", path);
    else {
        *size = (size_t) n;
        return buf;
    }
    free (buf);
    return NULL;
}

//  Closes the first n frames of an envelope.
static void
s_close_frames (zmq_msg_t *frames, int n)
{
    for (int i = 0; i < n; i++)
        zmq_msg_close (&frames [i]);
}

//  Receives one request and answers it. Returns 0, or -1 with errno set
//  (EINTR: a signal arrived). A request with a longer envelope than
//  S_MAX_ENVELOPE frames, or without a body, is dropped unanswered.
static int
s_serve_one (void *sock, const char *reply, size_t reply_size)
{
    zmq_msg_t frames [S_MAX_ENVELOPE];
    int n = 0;                  //  envelope frames kept
    bool in_envelope = true;    //  still before the body
    bool more = true;
    bool dropped = false;
    zmq_msg_t body;
    zmq_msg_init (&body);
    while (more) {
        zmq_msg_t *msg = in_envelope && n < S_MAX_ENVELOPE?
                         &frames [n]: &body;
        if (msg != &body)
            zmq_msg_init (msg);
        if (zmq_msg_recv (msg, sock, 0) < 0) {
            int err = errno;
            if (msg != &body)
                zmq_msg_close (msg);
            //  A multipart message arrives whole, so this is the first
            //  frame, or the end of the run: drop what we hold.
            s_close_frames (frames, n);
            zmq_msg_close (&body);
            errno = err;
            return -1;
        }
        more = zmq_msg_more (msg);
        if (msg == &body) {
            if (in_envelope)
                dropped = true;         //  envelope too long
            in_envelope = false;
        }
        else {
            n++;
            //  The routing id is always envelope; after it, the envelope
            //  ends with the first empty frame.
            if (n > 1 && zmq_msg_size (msg) == 0)
                in_envelope = false;
        }
    }
    zmq_msg_close (&body);
    if (dropped || in_envelope) {
        s_close_frames (frames, n);     //  no body: nothing to answer
        return 0;
    }
    int sent = 0;
    for (; sent < n; sent++)
        if (zmq_msg_send (&frames [sent], sock, ZMQ_SNDMORE) < 0)
            break;
    if (sent < n) {
        int err = errno;
        s_close_frames (frames + sent, n - sent);
        errno = err;
        return -1;
    }
    zmq_msg_t out;
    zmq_msg_init_data (&out, (void *) reply, reply_size, NULL, NULL);
    if (zmq_msg_send (&out, sock, 0) < 0) {
        int err = errno;
        zmq_msg_close (&out);
        errno = err;
        return -1;
    }
    return 0;
}

int
main (int argc, char **argv)
{
    static const struct option longs [] = {
        { "bind",        required_argument, NULL, 'b' },
        { "reply-bytes", required_argument, NULL, 'n' },
        { "reply-file",  required_argument, NULL, 'f' },
        { "help",        no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *endpoint = NULL, *file = NULL;
    long bytes = 0;
    int c;
    while ((c = getopt_long (argc, argv, "", longs, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
            case 'b': endpoint = optarg; break;
            case 'f': file = optarg; break;
            case 'n':
                errno = 0;
                bytes = strtol (optarg, &end, 10);
                if (errno || end == optarg || *end || bytes < 1
                ||  bytes > S_MAX_REPLY) {
                    fprintf (stderr, "zmqecho: --reply-bytes: bad value "
                             "'%s' (1 to %d)\n", optarg, S_MAX_REPLY);
                    return 2;
                }
                break;
            case 'h': s_usage (stdout); return 0;
            default:  s_usage (stderr); return 2;
        }
    }
    if (optind < argc || !endpoint || (!bytes && !file)) {
        fprintf (stderr, "zmqecho: --bind and --reply-bytes or --reply-file"
                 " are required (--help)\n");
        return 2;
    }
    char *reply = NULL;
    size_t reply_size = 0;
    if (file) {
        reply = s_read_file (file, &reply_size);
        if (!reply)
            return 2;
        if (bytes && (size_t) bytes != reply_size) {
            fprintf (stderr, "zmqecho: %s holds %zu bytes, --reply-bytes "
                     "says %ld\n", file, reply_size, bytes);
            free (reply);
            return 2;
        }
    }
    else {
        reply_size = (size_t) bytes;
        reply = malloc (reply_size);
        if (!reply) {
            fprintf (stderr, "zmqecho: out of memory\n");
            return 2;
        }
        for (size_t i = 0; i < reply_size; i++)
            reply [i] = (char) ('a' + i % 26);
    }

    //  No SA_RESTART: a signal ends a blocking receive with EINTR.
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset (&sa.sa_mask);
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);

    int rc = 1;
    void *ctx = zmq_ctx_new ();
    void *sock = ctx? zmq_socket (ctx, ZMQ_ROUTER): NULL;
    if (!sock) {
        fprintf (stderr, "zmqecho: cannot create a socket: %s\n",
                 zmq_strerror (zmq_errno ()));
        goto done;
    }
    int zero = 0;
    zmq_setsockopt (sock, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_bind (sock, endpoint)) {
        fprintf (stderr, "zmqecho: cannot bind %s: %s\n", endpoint,
                 zmq_strerror (zmq_errno ()));
        goto done;
    }
    printf ("zmqecho: bound %s, reply %zu bytes\n", endpoint, reply_size);
    fflush (stdout);
    while (!s_interrupted) {
        if (s_serve_one (sock, reply, reply_size) == 0)
            continue;
        if (errno == EINTR || errno == EAGAIN)
            continue;
        if (errno == ETERM)
            break;
        fprintf (stderr, "zmqecho: socket error: %s\n",
                 zmq_strerror (errno));
        goto done;
    }
    rc = 0;
done:
    if (sock)
        zmq_close (sock);
    if (ctx)
        zmq_ctx_term (ctx);
    free (reply);
    return rc;
}
