/*  ts_http_peers - the gateway's open HTTP connections counted per client
    address, so that one client cannot hold every connection the gateway
    has (gateway.http_max_connections_per_client).

    A connection is counted when it is accepted (ts_http_peers_take) and
    uncounted when it is closed (ts_http_peers_give): twice in its life,
    never per request. The HTTP loops share one table behind one mutex;
    its critical sections are a hash and a few probes.

    An address is the peer's IP address without the port: IPv4, or IPv6
    (an IPv4-mapped IPv6 address, ::ffff:a.b.c.d, is the IPv4 address
    a.b.c.d, so a dual-stack listener counts a client once). Behind a
    reverse proxy every connection has the proxy's address: the limit
    then bounds the proxy (docs/http-api.md).

    The table holds at most `capacity` addresses with open connections,
    in twice as many slots (open addressing, linear probing, an entry
    removed with the backward shift, so no tombstones accumulate). The
    caller sizes it to the most connections it keeps open at once, which
    bounds the distinct addresses; a take that finds the table full is
    let through uncounted and says so (false from counted), so a sizing
    mistake costs the limit, never a connection. */

#ifndef TS_HTTP_PEERS_H_INCLUDED
#define TS_HTTP_PEERS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct _ts_http_peers_t ts_http_peers_t;

//  A client address: 16 bytes, IPv4 as IPv4-mapped IPv6.
typedef struct {
    uint8_t     addr [16];
} ts_http_peer_t;

//  What ts_http_peers_take decided.
typedef enum {
    TS_HTTP_PEER_COUNTED,   //  counted: give it back when it closes
    TS_HTTP_PEER_OVER,      //  the address already has `limit` open
    TS_HTTP_PEER_UNCOUNTED  //  table full: let through, not counted
} ts_http_peer_take_t;

//  A table allowing `limit` (>= 1) open connections per address, for at
//  most `capacity` (>= 1) addresses at once. NULL if out of memory.
ts_http_peers_t *ts_http_peers_new (size_t limit, size_t capacity);

//  Destroys the table and sets *self_p to NULL. NULL-safe.
void ts_http_peers_destroy (ts_http_peers_t **self_p);

//  The address of sa (AF_INET or AF_INET6, len bytes) in *peer; false
//  for another family (a Unix socket: not counted).
bool ts_http_peer_of (const struct sockaddr *sa, socklen_t len,
                      ts_http_peer_t *peer);

//  Counts one more open connection of peer unless it has `limit`
//  already. Thread-safe.
ts_http_peer_take_t ts_http_peers_take (ts_http_peers_t *self,
                                        const ts_http_peer_t *peer);

//  Uncounts one connection of peer, which take counted
//  (TS_HTTP_PEER_COUNTED). Thread-safe.
void ts_http_peers_give (ts_http_peers_t *self, const ts_http_peer_t *peer);

//  Open connections counted for peer (0 if none). Thread-safe.
size_t ts_http_peers_count (ts_http_peers_t *self,
                            const ts_http_peer_t *peer);

#endif
