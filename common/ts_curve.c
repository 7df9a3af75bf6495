/*  ts_curve - CURVE keys and the ZAP handler of one process. See
    ts_curve.h for the behaviour, docs/protocol.md ("Security") for what a
    client in another language does.

    The ZAP handler is a zactor: a REP socket bound to
    inproc://zeromq.zap.01 in czmq's context, which every zsock of the
    process shares, so libzmq asks it about every CURVE handshake of
    every server socket. The domain table is built before the actor
    starts and read only by the actor afterwards (zcertstore refreshes
    itself from disk on lookup, so it is the actor's alone).

    Secrets: a secret key is read from its file, handed to libzmq and
    wiped; the client identity keeps its pair in binary until destroyed,
    then wipes it. Nothing here formats a secret key into text that could
    reach a log. */

#include "ts_curve.h"
#include "ts_log.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_ZAP_ENDPOINT  "inproc://zeromq.zap.01"
#define S_DOMAINS_MAX   8           //  ZAP domains of one process
#define S_DIRS_MAX      4           //  allow-list directories per domain
#define S_NAME_MAX      128         //  longest key name shown
#define S_LOG_PERIOD_MS 10000       //  refused handshakes logged per
#define S_LOG_LINES     5           //  period, at most

const char *
ts_role_name (ts_role_t role)
{
    return role == TS_ROLE_ADMIN? "admin": role == TS_ROLE_READ? "read"
                                                                 : "none";
}

int
ts_role_parse (const char *text, ts_role_t *role)
{
    if (strcmp (text, "read") == 0)
        *role = TS_ROLE_READ;
    else
    if (strcmp (text, "admin") == 0)
        *role = TS_ROLE_ADMIN;
    else
        return TS_EINVAL;
    return 0;
}

//  ---------------------------------------------------------------------
//  Key files

//  Wipes a certificate's secret key (binary and text) and destroys it.
static void
s_cert_destroy (zcert_t **cert_p)
{
    if (*cert_p) {
        //  Both point into the certificate's own (writable) struct.
        explicit_bzero ((void *) zcert_secret_key (*cert_p), 32);
        char *text = (char *) zcert_secret_txt (*cert_p);
        explicit_bzero (text, strlen (text));
        zcert_destroy (cert_p);
    }
}

const char *
ts_curve_cert_name (zcert_t *cert, char *buf, size_t size)
{
    const char *name = zcert_meta (cert, "name");
    if (name && *name)
        snprintf (buf, size, "%.*s", S_NAME_MAX, name);
    else
        snprintf (buf, size, "key %.8s", zcert_public_txt (cert));
    return buf;
}

int
ts_curve_keygen (const char *path, const char *name, char *err)
{
    char secret [PATH_MAX];
    if (snprintf (secret, sizeof secret, "%s_secret", path)
        >= (int) sizeof secret) {
        ts_errf (err, "%s: path too long", path);
        return TS_EINVAL;
    }
    if (access (path, F_OK) == 0 || access (secret, F_OK) == 0) {
        ts_errf (err, "%s: exists already; not overwritten", path);
        return TS_EINVAL;
    }
    zcert_t *cert = zcert_new ();
    if (!cert) {
        ts_errf (err, "%s: cannot make a key pair", path);
        return TS_EINVAL;
    }
    if (name && *name)
        zcert_set_meta (cert, "name", "%s", name);
    //  The secret file is created 0600, never wider for a moment.
    mode_t mask = umask (077);
    int rc = zcert_save_secret (cert, secret);
    umask (mask);
    if (rc == 0)
        rc = zcert_save_public (cert, path);
    if (rc == 0)
        rc = chmod (path, 0644);
    s_cert_destroy (&cert);
    if (rc) {
        ts_errf (err, "%s: cannot write: %s", path, strerror (errno));
        unlink (secret);
        return TS_EINVAL;
    }
    return 0;
}

zcert_t *
ts_curve_cert_load (const char *path, bool secret, char *err)
{
    char secret_path [PATH_MAX];
    snprintf (secret_path, sizeof secret_path, "%s_secret", path);
    const char *want = secret? secret_path: path;
    struct stat st;
    if (stat (want, &st) != 0) {
        ts_errf (err, "%s: %s (tscache keys init makes the keys of one "
                 "host, tscache keygen %s this pair)", want, strerror (errno),
                 path);
        return NULL;
    }
    if (secret && (st.st_mode & 077))
        ts_warn ("%s: readable by others (mode %03o): chmod 600 it",
                 secret_path, (unsigned) (st.st_mode & 0777));
    //  zcert_load reads PATH_secret when there is one, else PATH.
    zcert_t *cert = zcert_load (secret? path: want);
    if (!cert || strlen (zcert_public_txt (cert)) != 40
    ||  strspn (zcert_public_txt (cert), "0") == 40) {
        ts_errf (err, "%s: not a key certificate (tscache keygen makes "
                 "one)", want);
        s_cert_destroy (&cert);
        return NULL;
    }
    if (secret && strspn (zcert_secret_txt (cert), "0") == 40) {
        ts_errf (err, "%s: holds no secret key", secret_path);
        s_cert_destroy (&cert);
        return NULL;
    }
    return cert;
}

//  Checks the files of one list of config keys (secret: pairs, else
//  public files). Returns 0 or TS_ECONFIG.
static int
s_check_files (const ts_config_t *cfg, const char *const *keys, bool secret,
               char *err)
{
    for (size_t i = 0; keys && keys [i]; i++) {
        char detail [TS_ERRLEN], where [TS_ERRLEN];
        zcert_t *cert = ts_curve_cert_load (ts_config_str (cfg, keys [i]),
                                            secret, detail);
        if (!cert) {
            ts_config_where (cfg, keys [i], where, sizeof where);
            ts_errf (err, "%s: %s", where, detail);
            return TS_ECONFIG;
        }
        s_cert_destroy (&cert);
    }
    return 0;
}

int
ts_curve_check (const ts_config_t *cfg, const char *const *pairs,
                const char *const *publics, const char *const *dirs,
                char *err)
{
    if (strcmp (ts_config_str (cfg, "security.mode"), "plain") == 0)
        return 0;
    if (s_check_files (cfg, pairs, true, err)
    ||  s_check_files (cfg, publics, false, err))
        return TS_ECONFIG;
    for (size_t i = 0; dirs && dirs [i]; i++) {
        const char *dir = ts_config_str (cfg, dirs [i]);
        struct stat st;
        if (stat (dir, &st) != 0 || !S_ISDIR (st.st_mode)) {
            char where [TS_ERRLEN];
            ts_config_where (cfg, dirs [i], where, sizeof where);
            ts_errf (err, "%s: %s: not a directory of public keys "
                     "(tscache keys init makes one)", where, dir);
            return TS_ECONFIG;
        }
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Client identity

struct _ts_curve_id_t {
    byte public_key [32];       //  own public key
    byte secret_key [32];       //  own secret key, wiped on destroy
    byte server_key [32];       //  the server's public key
};

ts_curve_id_t *
ts_curve_id_load (const char *cert_path, const char *server_path, char *err)
{
    ts_curve_id_t *self = calloc (1, sizeof (ts_curve_id_t));
    if (!self) {
        ts_errf (err, "out of memory");
        return NULL;
    }
    zcert_t *own = ts_curve_cert_load (cert_path, true, err);
    zcert_t *server = own? ts_curve_cert_load (server_path, false, err)
                         : NULL;
    if (own && server) {
        memcpy (self->public_key, zcert_public_key (own), 32);
        memcpy (self->secret_key, zcert_secret_key (own), 32);
        memcpy (self->server_key, zcert_public_key (server), 32);
    }
    else
        ts_curve_id_destroy (&self);
    s_cert_destroy (&own);
    s_cert_destroy (&server);
    return self;
}

void
ts_curve_id_destroy (ts_curve_id_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        explicit_bzero (*self_p, sizeof (ts_curve_id_t));
        free (*self_p);
        *self_p = NULL;
    }
}

void
ts_curve_id_apply (const ts_curve_id_t *self, zsock_t *sock)
{
    if (!self)
        return;
    zmq_setsockopt (zsock_resolve (sock), ZMQ_CURVE_SERVERKEY,
                    self->server_key, 32);
    zmq_setsockopt (zsock_resolve (sock), ZMQ_CURVE_PUBLICKEY,
                    self->public_key, 32);
    zmq_setsockopt (zsock_resolve (sock), ZMQ_CURVE_SECRETKEY,
                    self->secret_key, 32);
}

//  ---------------------------------------------------------------------
//  Handshake watch

struct _ts_curve_watch_t {
    zsock_t  *sock;             //  borrowed: the watched socket
    zactor_t *actor;            //  reads the monitor's events
    const char *peer;           //  the server's name in the log
    char endpoint [64];         //  the monitor's inproc endpoint
};

//  Logs one monitor event: frame 1 holds the event (16 bits) and its
//  value (32 bits), frame 2 the endpoint.
static void
s_watch_event (ts_curve_watch_t *self, zmsg_t *msg, ts_log_limit_t *limit,
               bool *failing)
{
    zframe_t *head = zmsg_first (msg);
    zframe_t *where = zmsg_next (msg);
    if (!head || zframe_size (head) != 6 || !where)
        return;
    //  Host byte order, as libzmq copies them.
    uint16_t event;
    uint32_t value;
    memcpy (&event, zframe_data (head), sizeof event);
    memcpy (&value, zframe_data (head) + sizeof event, sizeof value);
    int len = (int) zframe_size (where);
    const char *at = (const char *) zframe_data (where);
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        if (*failing)
            ts_info ("zmq: CURVE handshake with the %s at %.*s succeeded",
                     self->peer, len, at);
        *failing = false;
        return;
    }
    *failing = true;
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        ts_log_limited (limit, TS_LOG_WARN, "zmq: the %s at %.*s refused "
                        "this process's CURVE key (ZAP %u): is its public "
                        "key in the %s's allow-list?", self->peer, len, at,
                        (unsigned) value, self->peer);
    else
        ts_log_limited (limit, TS_LOG_WARN, "zmq: CURVE handshake with the "
                        "%s at %.*s failed (error 0x%x): is the %s's public "
                        "key the right one?", self->peer, len, at,
                        (unsigned) value, self->peer);
}

static void
s_watch_actor (zsock_t *pipe, void *arg)
{
    ts_curve_watch_t *self = arg;
    zsock_t *events = zsock_new_pair (self->endpoint);
    ts_log_limit_t limit = TS_LOG_LIMIT (S_LOG_PERIOD_MS, 1);
    bool failing = false;
    zsock_signal (pipe, events? 0: 1);
    zpoller_t *poller = events? zpoller_new (pipe, events, NULL): NULL;
    while (poller) {
        zsock_t *which = zpoller_wait (poller, -1);
        if (which != events)
            break;                  //  $TERM, or interrupted
        zmsg_t *msg = zmsg_recv (events);
        if (msg)
            s_watch_event (self, msg, &limit, &failing);
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&events);
}

ts_curve_watch_t *
ts_curve_watch_new (const ts_curve_id_t *id, zsock_t *sock, const char *peer)
{
    if (!id)
        return NULL;
    ts_curve_watch_t *self = calloc (1, sizeof (ts_curve_watch_t));
    if (!self)
        return NULL;
    self->sock = sock;
    self->peer = peer;
    snprintf (self->endpoint, sizeof self->endpoint,
              "inproc://ts-curve-watch-%p", (void *) self);
    if (zmq_socket_monitor (zsock_resolve (sock), self->endpoint,
                            ZMQ_EVENT_HANDSHAKE_SUCCEEDED
                            | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
                            | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                            | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0) {
        free (self);
        return NULL;
    }
    self->actor = zactor_new (s_watch_actor, self);
    if (!self->actor) {
        zmq_socket_monitor (zsock_resolve (sock), NULL, 0);
        free (self);
        return NULL;
    }
    return self;
}

void
ts_curve_watch_destroy (ts_curve_watch_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_curve_watch_t *self = *self_p;
        zactor_destroy (&self->actor);
        zmq_socket_monitor (zsock_resolve (self->sock), NULL, 0);
        free (self);
        *self_p = NULL;
    }
}

//  ---------------------------------------------------------------------
//  The process's security

typedef struct {
    zcertstore_t *certs;        //  public certificates of the directory
    ts_role_t role;             //  what its keys may do
} s_dir_t;

typedef struct {
    char  *name;                //  ZAP domain
    s_dir_t dirs [S_DIRS_MAX];  //  allow-lists
    size_t ndirs;
} s_domain_t;

struct _ts_curve_t {
    const ts_config_t *cfg;     //  borrowed
    bool plain;                 //  security.mode: plain
    s_domain_t domains [S_DOMAINS_MAX];
    size_t ndomains;
    zactor_t *zap;              //  the ZAP handler, once a server exists
    char name [S_NAME_MAX + 16];    //  ts_curve_lookup's answer
    ts_log_limit_t refused_log; //  refused handshakes (actor's)
};

ts_curve_t *
ts_curve_new (const ts_config_t *cfg, const char *process, char *err)
{
    ts_curve_t *self = calloc (1, sizeof (ts_curve_t));
    if (!self) {
        ts_errf (err, "out of memory");
        return NULL;
    }
    self->cfg = cfg;
    self->plain = strcmp (ts_config_str (cfg, "security.mode"), "plain") == 0;
    self->refused_log = (ts_log_limit_t) TS_LOG_LIMIT (S_LOG_PERIOD_MS,
                                                       S_LOG_LINES);
    //  Once per process, however many parts of it look at the mode.
    static atomic_bool warned = false;
    if (self->plain && !atomic_exchange (&warned, true))
        ts_warn ("%s runs in plain mode (security.mode: plain): its ZeroMQ "
                 "sockets are neither encrypted nor authenticated, anyone "
                 "who reaches them may use them", process);
    return self;
}

void
ts_curve_destroy (ts_curve_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_curve_t *self = *self_p;
        zactor_destroy (&self->zap);
        for (size_t i = 0; i < self->ndomains; i++) {
            free (self->domains [i].name);
            for (size_t j = 0; j < self->domains [i].ndirs; j++)
                zcertstore_destroy (&self->domains [i].dirs [j].certs);
        }
        free (self);
        *self_p = NULL;
    }
}

bool
ts_curve_plain (const ts_curve_t *self)
{
    return self->plain;
}

static s_domain_t *
s_domain (ts_curve_t *self, const char *domain)
{
    for (size_t i = 0; i < self->ndomains; i++)
        if (strcmp (self->domains [i].name, domain) == 0)
            return &self->domains [i];
    return NULL;
}

int
ts_curve_allow (ts_curve_t *self, const char *domain, const char *dir_key,
                ts_role_t role, char *err)
{
    if (self->plain)
        return 0;
    assert (!self->zap);            //  the table is the actor's now
    char where [TS_ERRLEN];
    ts_config_where (self->cfg, dir_key, where, sizeof where);
    const char *dir = ts_config_str (self->cfg, dir_key);
    struct stat st;
    if (!*dir || stat (dir, &st) != 0 || !S_ISDIR (st.st_mode)) {
        ts_errf (err, "%s: %s: not a directory of public keys (tscache "
                 "keys init makes one)", where, dir);
        return TS_ECONFIG;
    }
    s_domain_t *d = s_domain (self, domain);
    if (!d) {
        assert (self->ndomains < S_DOMAINS_MAX);
        d = &self->domains [self->ndomains];
        if (!(d->name = strdup (domain))) {
            ts_errf (err, "out of memory");
            return TS_ECONFIG;
        }
        self->ndomains++;
    }
    assert (d->ndirs < S_DIRS_MAX);
    d->dirs [d->ndirs].certs = zcertstore_new (dir);
    d->dirs [d->ndirs].role = role;
    if (!d->dirs [d->ndirs].certs) {
        ts_errf (err, "%s: %s: cannot read", where, dir);
        return TS_ECONFIG;
    }
    d->ndirs++;
    return 0;
}

ts_role_t
ts_curve_lookup (ts_curve_t *self, const char *domain,
                 const char *public_z85, const char **name)
{
    ts_role_t role = TS_ROLE_NONE;
    self->name [0] = 0;
    s_domain_t *d = s_domain (self, domain);
    for (size_t i = 0; d && i < d->ndirs; i++) {
        zcert_t *cert = zcertstore_lookup (d->dirs [i].certs, public_z85);
        if (cert && d->dirs [i].role > role) {
            role = d->dirs [i].role;
            ts_curve_cert_name (cert, self->name, sizeof self->name);
        }
    }
    *name = self->name;
    return role;
}

//  ZMTP metadata of one property (ZAP reply's sixth frame): name length
//  (1 byte), name, value length (4 bytes, network order), value.
static zframe_t *
s_metadata (const char *name, const char *value)
{
    size_t nlen = strlen (name), vlen = strlen (value);
    zframe_t *frame = zframe_new (NULL, 1 + nlen + 4 + vlen);
    if (!frame)
        return NULL;
    byte *p = zframe_data (frame);
    *p++ = (byte) nlen;
    memcpy (p, name, nlen);
    p += nlen;
    *p++ = (byte) (vlen >> 24);
    *p++ = (byte) (vlen >> 16);
    *p++ = (byte) (vlen >> 8);
    *p++ = (byte) vlen;
    memcpy (p, value, vlen);
    return frame;
}

//  Answers one ZAP request (RFC 27): version, request id, domain,
//  address, routing id, mechanism, credentials.
static void
s_zap_answer (ts_curve_t *self, zsock_t *handler, zmsg_t *request)
{
    char *version = zmsg_popstr (request);
    char *sequence = zmsg_popstr (request);
    char *domain = zmsg_popstr (request);
    char *address = zmsg_popstr (request);
    zframe_t *routing = zmsg_pop (request);
    char *mechanism = zmsg_popstr (request);
    zframe_t *key = zmsg_pop (request);
    const char *name = "";
    ts_role_t role = TS_ROLE_NONE;
    char z85 [41] = "";
    if (version && streq (version, "1.0") && mechanism
    &&  streq (mechanism, "CURVE") && key && zframe_size (key) == 32
    &&  zmq_z85_encode (z85, zframe_data (key), 32))
        role = ts_curve_lookup (self, domain? domain: "", z85, &name);
    if (role == TS_ROLE_NONE)
        ts_log_limited (&self->refused_log, TS_LOG_WARN,
                        "zmq: refused %s from %s on %s: key %.8s... is not "
                        "allowed", mechanism? mechanism: "?",
                        address? address: "?", domain? domain: "?", z85);
    else
        ts_debug ("zmq: %s (%s) from %s on %s", name, ts_role_name (role),
                  address? address: "?", domain);
    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "1.0");
    zmsg_addstr (reply, sequence? sequence: "");
    zmsg_addstr (reply, role? "200": "400");
    zmsg_addstr (reply, role? "OK": "key not allowed");
    zmsg_addstr (reply, role? name: "");
    zframe_t *meta = role? s_metadata ("Role", ts_role_name (role))
                         : zframe_new_empty ();
    if (meta)
        zmsg_append (reply, &meta);
    zmsg_send (&reply, handler);
    zstr_free (&version);
    zstr_free (&sequence);
    zstr_free (&domain);
    zstr_free (&address);
    zstr_free (&mechanism);
    zframe_destroy (&routing);
    zframe_destroy (&key);
}

static void
s_zap_actor (zsock_t *pipe, void *arg)
{
    ts_curve_t *self = arg;
    zsock_t *handler = zsock_new_rep (S_ZAP_ENDPOINT);
    zsock_signal (pipe, handler? 0: 1);
    if (!handler)
        return;
    zpoller_t *poller = zpoller_new (pipe, handler, NULL);
    while (poller) {
        zsock_t *which = zpoller_wait (poller, -1);
        if (which == handler) {
            zmsg_t *request = zmsg_recv (handler);
            if (request)
                s_zap_answer (self, handler, request);
            zmsg_destroy (&request);
        }
        else
            break;                  //  $TERM, or interrupted
    }
    zpoller_destroy (&poller);
    zsock_destroy (&handler);
}

void
ts_curve_check_bind (const ts_curve_t *self, const char *bind_key)
{
    static const char *const local [] = { "ipc://", "inproc://",
        "tcp://127.", "tcp://localhost:", "tcp://[::1]:", NULL };
    if (!self->plain)
        return;
    const char *endpoint = ts_config_str (self->cfg, bind_key);
    for (size_t i = 0; local [i]; i++)
        if (strncmp (endpoint, local [i], strlen (local [i])) == 0)
            return;
    ts_warn ("%s is %s, beyond loopback, in plain mode: anyone who can "
             "reach it can use it unauthenticated and read its traffic",
             bind_key, endpoint);
}

int
ts_curve_server (ts_curve_t *self, zsock_t *sock, const char *cert_key,
                 const char *domain, char *err)
{
    if (self->plain)
        return 0;
    assert (s_domain (self, domain));
    char detail [TS_ERRLEN];
    zcert_t *cert = ts_curve_cert_load (ts_config_str (self->cfg, cert_key),
                                        true, detail);
    if (!cert) {
        ts_errf (err, "%s: %s", cert_key, detail);
        return TS_ECONFIG;
    }
    if (!self->zap) {
        //  zactor_new waits for the handler's bind: no handshake can
        //  come before it.
        self->zap = zactor_new (s_zap_actor, self);
        if (!self->zap) {
            s_cert_destroy (&cert);
            ts_errf (err, "cannot start the ZAP handler on %s",
                     S_ZAP_ENDPOINT);
            return TS_ECONFIG;
        }
    }
    zsock_set_zap_domain (sock, domain);
    zsock_set_curve_server (sock, 1);
    zmq_setsockopt (zsock_resolve (sock), ZMQ_CURVE_SECRETKEY,
                    zcert_secret_key (cert), 32);
    s_cert_destroy (&cert);
    return 0;
}

int
ts_curve_client (const ts_curve_t *self, const char *cert_key,
                 const char *server_key, ts_curve_id_t **id, char *err)
{
    *id = NULL;
    if (self->plain)
        return 0;
    char detail [TS_ERRLEN];
    const char *cert = ts_config_str (self->cfg, cert_key);
    const char *server = ts_config_str (self->cfg, server_key);
    *id = ts_curve_id_load (cert, server, detail);
    if (!*id) {
        //  Blame the key whose file is at fault.
        bool own = strncmp (detail, cert, strlen (cert)) == 0
                && strncmp (detail, server, strlen (server)) != 0;
        ts_errf (err, "%s: %s", own? cert_key: server_key, detail);
        return TS_ECONFIG;
    }
    return 0;
}

ts_role_t
ts_curve_peer (const ts_curve_t *self, zframe_t *frame, const char **name)
{
    if (self->plain) {
        *name = "plain";
        return TS_ROLE_ADMIN;
    }
    const char *user = zframe_meta (frame, "User-Id");
    const char *role = zframe_meta (frame, "Role");
    ts_role_t parsed = TS_ROLE_NONE;
    *name = user? user: "";
    if (!role || ts_role_parse (role, &parsed))
        return TS_ROLE_NONE;
    return parsed;
}
