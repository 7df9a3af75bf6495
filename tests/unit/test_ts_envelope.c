/*  test_ts_envelope - cutting ROUTER messages into envelope and body:
    REQ, DEALER with its own envelope frames, the bare DEALER form, and
    every wrong shape; and a reply sent back through a real ROUTER. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "ts_envelope.h"

//  A message of n frames given as strings ("" is an empty frame).
static zmsg_t *
s_msg (size_t n, ...)
{
    zmsg_t *msg = zmsg_new ();
    va_list args;
    va_start (args, n);
    for (size_t i = 0; i < n; i++)
        zmsg_addstr (msg, va_arg (args, const char *));
    va_end (args);
    return msg;
}

static void
split_takes_every_frame_up_to_the_delimiter (void **state)
{
    char err [TS_ERRLEN] = "";
    zmsg_t *envelope;
    zmsg_t *msg = s_msg (5, "rid", "proxy", "corr", "", "body");
    assert_int_equal (ts_envelope_split (msg, false, &envelope, err), 0);
    assert_int_equal (zmsg_size (envelope), 4);
    assert_true (zframe_streq (zmsg_last (envelope), ""));
    assert_int_equal (zmsg_size (msg), 1);
    assert_true (zframe_streq (zmsg_first (msg), "body"));
    zmsg_destroy (&envelope);
    zmsg_destroy (&msg);

    //  A REQ client's: [rid][empty][body]
    msg = s_msg (3, "rid", "", "body");
    assert_int_equal (ts_envelope_split (msg, false, &envelope, err), 0);
    assert_int_equal (zmsg_size (envelope), 2);
    zmsg_destroy (&envelope);
    zmsg_destroy (&msg);
}

static void
split_serves_the_bare_form_only_when_asked (void **state)
{
    char err [TS_ERRLEN] = "";
    zmsg_t *envelope;
    zmsg_t *msg = s_msg (2, "rid", "body");
    assert_int_equal (ts_envelope_split (msg, true, &envelope, err), 0);
    assert_int_equal (zmsg_size (envelope), 1);
    assert_true (zframe_streq (zmsg_first (msg), "body"));
    zmsg_destroy (&envelope);
    zmsg_destroy (&msg);

    msg = s_msg (2, "rid", "body");
    assert_int_equal (ts_envelope_split (msg, false, &envelope, err),
                      TS_EPROTO);
    assert_non_null (strstr (err, "empty delimiter"));
    assert_int_equal (zmsg_size (envelope), 1);
    zmsg_destroy (&envelope);
    zmsg_destroy (&msg);

    //  Two frames without a delimiter are not the bare form.
    msg = s_msg (3, "rid", "corr", "body");
    assert_int_equal (ts_envelope_split (msg, true, &envelope, err),
                      TS_EPROTO);
    assert_int_equal (zmsg_size (envelope), 1);
    zmsg_destroy (&envelope);
    zmsg_destroy (&msg);
}

static void
split_rejects_zero_or_several_bodies (void **state)
{
    char err [TS_ERRLEN] = "";
    zmsg_t *envelope;
    zmsg_t *msg = s_msg (4, "rid", "", "one", "two");
    assert_int_equal (ts_envelope_split (msg, true, &envelope, err),
                      TS_EPROTO);
    assert_non_null (strstr (err, "got 2"));
    assert_int_equal (zmsg_size (envelope), 2);
    zmsg_destroy (&envelope);
    zmsg_destroy (&msg);

    msg = s_msg (2, "rid", "");
    assert_int_equal (ts_envelope_split (msg, true, &envelope, err),
                      TS_EPROTO);
    assert_non_null (strstr (err, "got 0"));
    zmsg_destroy (&envelope);
    zmsg_destroy (&msg);

    msg = zmsg_new ();
    assert_int_equal (ts_envelope_split (msg, true, &envelope, err),
                      TS_EPROTO);
    assert_null (envelope);
    zmsg_destroy (&msg);
}

static void
send_returns_the_envelope_and_one_body (void **state)
{
    zsock_t *router = zsock_new_router ("@inproc://test-ts-envelope");
    zsock_t *dealer = zsock_new_dealer (">inproc://test-ts-envelope");
    assert_non_null (router);
    assert_non_null (dealer);
    zsock_set_rcvtimeo (router, 2000);
    zsock_set_rcvtimeo (dealer, 2000);
    zsock_send (dealer, "ssss", "proxy", "corr", "", "request");
    zmsg_t *msg = zmsg_recv (router);
    assert_non_null (msg);
    zmsg_t *envelope;
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_envelope_split (msg, false, &envelope, err), 0);
    char *data = strdup ("reply");
    assert_int_equal (ts_envelope_send (&envelope, router, data, 5), 0);
    assert_null (envelope);
    zmsg_destroy (&msg);

    msg = zmsg_recv (dealer);
    assert_non_null (msg);
    assert_int_equal (zmsg_size (msg), 4);
    assert_true (zframe_streq (zmsg_first (msg), "proxy"));
    assert_true (zframe_streq (zmsg_next (msg), "corr"));
    assert_true (zframe_streq (zmsg_next (msg), ""));
    assert_true (zframe_streq (zmsg_next (msg), "reply"));
    zmsg_destroy (&msg);
    zsock_destroy (&dealer);
    zsock_destroy (&router);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (split_takes_every_frame_up_to_the_delimiter),
        cmocka_unit_test (split_serves_the_bare_form_only_when_asked),
        cmocka_unit_test (split_rejects_zero_or_several_bodies),
        cmocka_unit_test (send_returns_the_envelope_and_one_body),
    };
    return cmocka_run_group_tests_name ("ts_envelope", tests, NULL, NULL);
}
