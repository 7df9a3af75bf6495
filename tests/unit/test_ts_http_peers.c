/*  test_ts_http_peers - open HTTP connections counted per client
    address: the limit, giving back, IPv4 and IPv4-mapped IPv6 as one
    address, and a table that stays right through many adds and removes
    in any order (the backward-shift deletion). */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/ts_http_peers.h"

static ts_http_peer_t
s_v4 (const char *text)
{
    struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons (9) };
    assert_int_equal (inet_pton (AF_INET, text, &in.sin_addr), 1);
    ts_http_peer_t peer;
    assert_true (ts_http_peer_of ((struct sockaddr *) &in, sizeof in, &peer));
    return peer;
}

static ts_http_peer_t
s_v6 (const char *text)
{
    struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
    assert_int_equal (inet_pton (AF_INET6, text, &in6.sin6_addr), 1);
    ts_http_peer_t peer;
    assert_true (ts_http_peer_of ((struct sockaddr *) &in6, sizeof in6,
                                  &peer));
    return peer;
}

static void
an_address_gets_limit_connections_and_more_once_one_closes (void **state)
{
    ts_http_peers_t *peers = ts_http_peers_new (3, 8);
    ts_http_peer_t a = s_v4 ("192.0.2.1"), b = s_v4 ("192.0.2.2");
    for (int i = 0; i < 3; i++)
        assert_int_equal (ts_http_peers_take (peers, &a),
                          TS_HTTP_PEER_COUNTED);
    assert_int_equal (ts_http_peers_take (peers, &a), TS_HTTP_PEER_OVER);
    assert_int_equal (ts_http_peers_count (peers, &a), 3);
    //  Another address is not held by the first one's limit.
    assert_int_equal (ts_http_peers_take (peers, &b), TS_HTTP_PEER_COUNTED);
    ts_http_peers_give (peers, &a);
    assert_int_equal (ts_http_peers_take (peers, &a), TS_HTTP_PEER_COUNTED);
    for (int i = 0; i < 3; i++)
        ts_http_peers_give (peers, &a);
    ts_http_peers_give (peers, &b);
    assert_int_equal (ts_http_peers_count (peers, &a), 0);
    assert_int_equal (ts_http_peers_count (peers, &b), 0);
    ts_http_peers_destroy (&peers);
    assert_null (peers);
    ts_http_peers_destroy (&peers);     //  NULL-safe
}

static void
ipv4_and_ipv4_mapped_ipv6_are_one_address_ports_do_not_count (void **state)
{
    ts_http_peers_t *peers = ts_http_peers_new (1, 4);
    ts_http_peer_t v4 = s_v4 ("198.51.100.7");
    ts_http_peer_t mapped = s_v6 ("::ffff:198.51.100.7");
    ts_http_peer_t v6 = s_v6 ("2001:db8::7");
    assert_memory_equal (&v4, &mapped, sizeof v4);
    assert_int_equal (ts_http_peers_take (peers, &v4), TS_HTTP_PEER_COUNTED);
    assert_int_equal (ts_http_peers_take (peers, &mapped), TS_HTTP_PEER_OVER);
    assert_int_equal (ts_http_peers_take (peers, &v6), TS_HTTP_PEER_COUNTED);
    //  Other families (a Unix socket) are not addresses.
    struct sockaddr unix_sa = { .sa_family = AF_UNIX };
    ts_http_peer_t none;
    assert_false (ts_http_peer_of (&unix_sa, sizeof unix_sa, &none));
    //  A short address is refused, not read past its end.
    struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
    assert_false (ts_http_peer_of ((struct sockaddr *) &in6, 8, &none));
    ts_http_peers_destroy (&peers);
}

//  Many addresses (many sharing probe runs in a small table), their
//  connections taken and given in a shuffled order: every count stays
//  what a plain array says it is.
static void
counts_stay_right_through_adds_and_removes_in_any_order (void **state)
{
    enum { ADDRS = 200, PER = 3, ROUNDS = 20 };
    ts_http_peers_t *peers = ts_http_peers_new (PER, ADDRS);
    ts_http_peer_t addr [ADDRS];
    unsigned open [ADDRS] = { 0 };
    for (int i = 0; i < ADDRS; i++) {
        char text [32];
        snprintf (text, sizeof text, "10.%d.%d.1", i / 7, i % 7);
        addr [i] = s_v4 (text);
    }
    srand (7);
    for (int round = 0; round < ROUNDS; round++)
        for (int n = 0; n < ADDRS * PER; n++) {
            int i = rand () % ADDRS;
            if (rand () % 2) {
                ts_http_peer_take_t rc = ts_http_peers_take (peers, &addr [i]);
                assert_int_equal (rc, open [i] < PER? TS_HTTP_PEER_COUNTED
                                                     : TS_HTTP_PEER_OVER);
                if (rc == TS_HTTP_PEER_COUNTED)
                    open [i]++;
            }
            else
            if (open [i]) {
                ts_http_peers_give (peers, &addr [i]);
                open [i]--;
            }
            if (n % 97 == 0)
                for (int j = 0; j < ADDRS; j++)
                    assert_int_equal (ts_http_peers_count (peers, &addr [j]),
                                      open [j]);
        }
    for (int j = 0; j < ADDRS; j++)
        while (open [j]--)
            ts_http_peers_give (peers, &addr [j]);
    for (int j = 0; j < ADDRS; j++)
        assert_int_equal (ts_http_peers_count (peers, &addr [j]), 0);
    ts_http_peers_destroy (&peers);
}

//  Past its capacity the table lets a connection through uncounted
//  instead of refusing it.
static void
a_full_table_lets_connections_through_uncounted (void **state)
{
    ts_http_peers_t *peers = ts_http_peers_new (1, 1);     //  16 slots
    int counted = 0, uncounted = 0;
    for (int i = 0; i < 40; i++) {
        char text [32];
        snprintf (text, sizeof text, "203.0.113.%d", i);
        ts_http_peer_t p = s_v4 (text);
        ts_http_peer_take_t rc = ts_http_peers_take (peers, &p);
        assert_int_not_equal (rc, TS_HTTP_PEER_OVER);
        if (rc == TS_HTTP_PEER_COUNTED)
            counted++;
        else
            uncounted++;
    }
    assert_int_equal (counted, 16);
    assert_int_equal (uncounted, 24);
    ts_http_peers_destroy (&peers);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (an_address_gets_limit_connections_and_more_once_one_closes),
        cmocka_unit_test (ipv4_and_ipv4_mapped_ipv6_are_one_address_ports_do_not_count),
        cmocka_unit_test (counts_stay_right_through_adds_and_removes_in_any_order),
        cmocka_unit_test (a_full_table_lets_connections_through_uncounted),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_http_peers", tests, NULL, NULL);
}
