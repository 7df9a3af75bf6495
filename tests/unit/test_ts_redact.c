/*  test_ts_redact - display forms of URLs and headers, and scrubbing a
    known secret from any text. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ts_redact.h"

#define KEY "Zq9/s3cr3t+k3y=&"
#define KEY_ENCODED "Zq9%2Fs3cr3t%2Bk3y%3D%26"

static bool
s_credential (const char *name)
{
    return ts_redact_is_credential (name, strlen (name));
}

static void
credential_names_are_keys_tokens_auth_and_friends (void **state)
{
    const char *yes [] = { "x-api-key", "Authorization", "apikey", "api_key",
        "access_token", "client_secret", "password", "Cookie", "sig",
        "appid", "X-Goog-Api-Key", "Proxy-Authorization", "signature",
        "X-Auth-Token", "credentials", NULL };
    const char *no [] = { "Accept", "from", "to", "id", "design", "signal",
        "format", "X-Client", "User-Agent", "", NULL };
    for (int i = 0; yes [i]; i++)
        assert_true (s_credential (yes [i]));
    for (int i = 0; no [i]; i++)
        assert_false (s_credential (no [i]));
    //  Only len bytes of the name count.
    assert_false (ts_redact_is_credential ("id=key", 2));
}

static void
text_loses_the_secret_as_it_is_and_percent_encoded (void **state)
{
    char text [256] = "GET /r?k=" KEY_ENCODED " failed; sent " KEY " twice";
    ts_redact_text (text, sizeof text, KEY);
    assert_string_equal (text, "GET /r?k=*** failed; sent *** twice");
}

static void
text_matches_the_secret_in_any_case (void **state)
{
    char text [256] = "k=zq9%2fs3cr3t%2bk3y%3d%26 and ZQ9/S3CR3T+K3Y=&";
    ts_redact_text (text, sizeof text, KEY);
    assert_string_equal (text, "k=*** and ***");
}

static void
text_cut_in_the_middle_of_the_secret_shows_none_of_it (void **state)
{
    char text [256] = "wrong key 'Zq9/s3c";
    ts_redact_text (text, sizeof text, KEY);
    assert_string_equal (text, "wrong key '***");
    char encoded [256] = "GET /r?k=Zq9%2Fs3";
    ts_redact_text (encoded, sizeof encoded, KEY);
    assert_string_equal (encoded, "GET /r?k=***");
    char quoted [256] = "[3].time: got string 'Zq9/s3cr3t+...'";
    ts_redact_text (quoted, sizeof quoted, KEY);
    assert_string_equal (quoted, "[3].time: got string '***...'");
    //  Five characters are too common to mean anything.
    char short_piece [256] = "Zq9/s ends in Zq9/s";
    ts_redact_text (short_piece, sizeof short_piece, KEY);
    assert_string_equal (short_piece, "Zq9/s ends in Zq9/s");
}

static void
text_without_the_secret_or_without_a_secret_is_left_alone (void **state)
{
    char text [64] = "id=a: upstream HTTP 500";
    ts_redact_text (text, sizeof text, KEY);
    assert_string_equal (text, "id=a: upstream HTTP 500");
    ts_redact_text (text, sizeof text, NULL);
    ts_redact_text (text, sizeof text, "");
    assert_string_equal (text, "id=a: upstream HTTP 500");
}

static void
text_never_grows_past_its_buffer (void **state)
{
    //  A two-character secret becomes three: the text is cut to fit.
    char text [8] = "ab ab a";
    ts_redact_text (text, sizeof text, "ab");
    assert_string_equal (text, "*** ***");
    char tiny [4] = "abc";
    ts_redact_text (tiny, sizeof tiny, "b");
    assert_true (strlen (tiny) < sizeof tiny);
    assert_null (strchr (tiny, 'b'));
}

static void
url_masks_credential_values_userinfo_and_the_secret (void **state)
{
    char shown [256];
    ts_redact_url ("https://user:pw@h.example:8443/v1/" KEY_ENCODED
                   "/rows?from=1&apikey=literal&to=2&access_token=t#frag",
                   KEY, shown, sizeof shown);
    assert_string_equal (shown, "https://***@h.example:8443/v1/***/rows"
                         "?from=1&apikey=***&to=2&access_token=***#frag");
}

static void
url_keeps_placeholders_and_plain_urls_as_they_are (void **state)
{
    char shown [256];
    const char *tmpl = "http://h/rows/{id}?from={from}&key={api_key}";
    ts_redact_url (tmpl, NULL, shown, sizeof shown);
    assert_string_equal (shown, tmpl);
    ts_redact_url ("/relative?x=1&y", KEY, shown, sizeof shown);
    assert_string_equal (shown, "/relative?x=1&y");
    ts_redact_url ("", KEY, shown, sizeof shown);
    assert_string_equal (shown, "");
}

static void
url_too_long_is_cut_and_marked (void **state)
{
    char shown [16];
    ts_redact_url ("http://h/rows/abcdefghij?k=" KEY, KEY, shown,
                   sizeof shown);
    assert_string_equal (shown, "http://h/row...");
    //  Cut inside the secret: none of it shows.
    char mid [24];
    ts_redact_url ("http://h/" KEY "/rows", KEY, mid, sizeof mid);
    assert_null (strstr (mid, "Zq9/s"));
    assert_true (strlen (mid) < sizeof mid);
}

static void
header_of_a_credential_shows_only_its_name (void **state)
{
    char shown [128];
    assert_string_equal (ts_redact_header ("Authorization: Bearer " KEY, KEY,
                                           shown, sizeof shown),
                         "Authorization: ***");
    assert_string_equal (ts_redact_header ("x-api-key: whatever", NULL,
                                           shown, sizeof shown),
                         "x-api-key: ***");
    assert_string_equal (ts_redact_header ("X-Trace: a" KEY, KEY, shown,
                                           sizeof shown), "X-Trace: a***");
    assert_string_equal (ts_redact_header ("Accept: text/json", KEY, shown,
                                           sizeof shown), "Accept: text/json");
    assert_string_equal (ts_redact_header ("no colon " KEY, KEY, shown,
                                           sizeof shown), "***");
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (credential_names_are_keys_tokens_auth_and_friends),
        cmocka_unit_test (text_loses_the_secret_as_it_is_and_percent_encoded),
        cmocka_unit_test (text_matches_the_secret_in_any_case),
        cmocka_unit_test (text_cut_in_the_middle_of_the_secret_shows_none_of_it),
        cmocka_unit_test (text_without_the_secret_or_without_a_secret_is_left_alone),
        cmocka_unit_test (text_never_grows_past_its_buffer),
        cmocka_unit_test (url_masks_credential_values_userinfo_and_the_secret),
        cmocka_unit_test (url_keeps_placeholders_and_plain_urls_as_they_are),
        cmocka_unit_test (url_too_long_is_cut_and_marked),
        cmocka_unit_test (header_of_a_credential_shows_only_its_name),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_redact", tests, NULL, NULL);
}
