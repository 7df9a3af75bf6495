/*  ts_curve - CURVE encryption and authentication of tscache's ZeroMQ
    sockets, and the roles of the keys that may connect.

    Every socket that binds (the gateway's client socket, the broker's
    worker, control and notice sockets) is a CURVE server with the secret
    key of its process; every socket that connects (worker, gateway's
    forwarder and notice subscriber, CLI) is a CURVE client with a key of
    its own and the server's public key. Keys are czmq certificates
    (zcert): a public file NAME.key and a secret file NAME.key_secret
    (mode 0600), Z85 text, made by `tscache keygen`.

    Who may connect is decided by this process's ZAP handler (RFC 27, one
    thread on inproc://zeromq.zap.01): each server socket has a ZAP
    domain, and each domain one or more allow-list directories of public
    certificates, each directory with a role (read or admin). The handler
    answers 200 with the certificate's name as User-Id and the role as the
    "Role" metadata property, or 400 for a key no directory of the domain
    lists: the peer is then never connected, no message of it is read.
    Directories are read again when they change (zcertstore), so a key
    added or removed takes effect at the next handshake.

    In plain mode (security.mode: plain) nothing of this is done: sockets
    are plain NULL-mechanism sockets, every peer is admin, and
    ts_curve_new logs a WARN saying the process runs without encryption
    or authentication.

    Only names are logged, never a key: the ZAP handler logs a refused
    peer's address and the first 8 characters of its public key (public,
    but enough to find it), never any secret. */

#ifndef TS_CURVE_H_INCLUDED
#define TS_CURVE_H_INCLUDED

#include "ts_common.h"
#include "ts_config.h"

#include <czmq.h>

//  The ZAP domains of tscache's server sockets (docs/protocol.md,
//  "Security"): each has its own allow-lists.
#define TS_ZAP_WORKERS  "tscache.workers"   //  broker.worker_bind
#define TS_ZAP_CONTROL  "tscache.control"   //  broker.control_bind
#define TS_ZAP_NOTICE   "tscache.notice"    //  broker.notice_bind
#define TS_ZAP_CLIENTS  "tscache.clients"   //  gateway.zmq_bind

//  What a key may do. Ordered: a higher role may do all a lower one may.
typedef enum {
    TS_ROLE_NONE = 0,       //  not allowed at all
    TS_ROLE_READ,           //  queries and reads (query, ids_ls, stats...)
    TS_ROLE_ADMIN           //  also changes: ids, hydrate, dlq redrive/purge
} ts_role_t;

//  "none", "read" or "admin" (static text).
const char *ts_role_name (ts_role_t role);

//  Parses "read" or "admin". Returns 0 and sets *role, or TS_EINVAL.
int ts_role_parse (const char *text, ts_role_t *role);

//  ---------------------------------------------------------------------
//  Key files

//  Writes a new certificate: public part at path (mode 0644), secret at
//  path + "_secret" (mode 0600, created so), with metadata name. Refuses
//  to overwrite either file. Returns 0, or TS_EINVAL with the reason in
//  err (never a key).
int ts_curve_keygen (const char *path, const char *name, char *err);

//  Loads the certificate at path; with secret, its secret file
//  path + "_secret" must exist and hold a secret key (a secret file that
//  others can read is logged at WARN). Returns the certificate, which the
//  caller destroys with zcert_destroy, or NULL with "PATH: reason" in
//  err.
zcert_t *ts_curve_cert_load (const char *path, bool secret, char *err);

//  The name of a certificate: its "name" metadata, else "key " and the
//  first 8 characters of its public key. Writes into buf (size bytes)
//  and returns it.
const char *ts_curve_cert_name (zcert_t *cert, char *buf, size_t size);

//  What a daemon checks at start and with --check-config: in curve mode,
//  that each config key of pairs names a key pair whose secret file
//  holds a key, each of publics a public key file, each of dirs a
//  directory (NULL-terminated lists, each may be NULL). Returns 0, or
//  TS_ECONFIG with "WHERE: PATH: reason" in err (ts_config_where; never
//  a key). Plain mode: 0.
int ts_curve_check (const ts_config_t *cfg, const char *const *pairs,
                    const char *const *publics, const char *const *dirs,
                    char *err);

//  ---------------------------------------------------------------------
//  One connecting side: own key pair and the server's public key

typedef struct _ts_curve_id_t ts_curve_id_t;

//  Loads a client's key pair (cert_path and its _secret file) and the
//  server's public key (server_path, its public file). Returns NULL with
//  "PATH: reason" in err if either cannot be read.
ts_curve_id_t *ts_curve_id_load (const char *cert_path,
                                 const char *server_path, char *err);

//  Wipes the secret key and frees; sets *self_p to NULL. Safe on NULL.
void ts_curve_id_destroy (ts_curve_id_t **self_p);

//  Makes sock a CURVE client of the server with self's keys: call
//  before zsock_connect. self NULL (plain mode) does nothing.
void ts_curve_id_apply (const ts_curve_id_t *self, zsock_t *sock);

//  Watches the CURVE handshakes of a client socket (a libzmq monitor read
//  by a thread of its own) and logs a WARN, at most one per 10 s, when
//  one fails: "zmq: the broker at ENDPOINT refused this process's CURVE
//  key (ZAP 400): is its public key in the broker's allow-list?", or
//  the handshake broke (a wrong server key), and an INFO when one
//  succeeds after failures. A refused peer otherwise only sees silence.
//  peer names the server in the log (static text). Call before
//  zsock_connect; destroy before the socket. NULL if self is NULL (plain
//  mode) or the monitor cannot start.
typedef struct _ts_curve_watch_t ts_curve_watch_t;
ts_curve_watch_t *ts_curve_watch_new (const ts_curve_id_t *self,
                                      zsock_t *sock, const char *peer);

//  Stops watching and frees; sets *self_p to NULL. Safe on NULL.
void ts_curve_watch_destroy (ts_curve_watch_t **self_p);

//  ---------------------------------------------------------------------
//  A process's security: mode, server keys, the ZAP handler

typedef struct _ts_curve_t ts_curve_t;

//  Reads security.mode. process is the binary's name for the plain-mode
//  WARN line ("tscache-gateway runs in plain mode: ..."). Returns NULL
//  with the reason in err only if out of memory.
ts_curve_t *ts_curve_new (const ts_config_t *cfg, const char *process,
                          char *err);

//  Stops the ZAP handler and frees; sets *self_p to NULL. Safe on NULL.
void ts_curve_destroy (ts_curve_t **self_p);

//  True in plain mode (security.mode: plain).
bool ts_curve_plain (const ts_curve_t *self);

//  Lets the keys of the public certificates in the directory named by
//  config key dir_key connect to the sockets of ZAP domain, with role.
//  Call before ts_curve_server for that domain. A missing directory is
//  an error naming the key. Returns 0, or TS_ECONFIG with the reason in
//  err. Plain mode: does nothing.
int ts_curve_allow (ts_curve_t *self, const char *domain,
                    const char *dir_key, ts_role_t role, char *err);

//  In plain mode, logs a WARN if the endpoint of config key bind_key is
//  not on loopback (tcp://127.x, localhost, [::1]) nor ipc:// or
//  inproc://: whoever reaches it may use it. Curve mode: nothing.
void ts_curve_check_bind (const ts_curve_t *self, const char *bind_key);

//  Makes sock a CURVE server with the secret key of the certificate named
//  by config key cert_key, authenticating peers in ZAP domain (which
//  ts_curve_allow has listed); starts the ZAP handler on first use. Call
//  before zsock_bind. Returns 0, or TS_ECONFIG with the reason in err.
//  Plain mode: does nothing.
int ts_curve_server (ts_curve_t *self, zsock_t *sock, const char *cert_key,
                     const char *domain, char *err);

//  Loads a client identity from the config keys cert_key (own pair) and
//  server_key (server's public certificate) into *id (NULL in plain
//  mode). Returns 0, or TS_ECONFIG with "KEY: PATH: reason" in err.
int ts_curve_client (const ts_curve_t *self, const char *cert_key,
                     const char *server_key, ts_curve_id_t **id,
                     char *err);

//  The role of the key whose public Z85 text is public_z85 on domain, and
//  its name (borrowed until the next call; "" if none): what the ZAP
//  handler answers. The highest role of every directory that lists it.
ts_role_t ts_curve_lookup (ts_curve_t *self, const char *domain,
                           const char *public_z85, const char **name);

//  The role and name (borrowed, for the frame's life) of the peer that
//  sent frame, as the ZAP handler set them. Plain mode: TS_ROLE_ADMIN,
//  name "plain".
ts_role_t ts_curve_peer (const ts_curve_t *self, zframe_t *frame,
                         const char **name);

#endif
