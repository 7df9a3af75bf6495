/*  test_ts_curve - CURVE key files, allow-lists and the roles they give.

    Keys are made in a temporary directory with ts_curve_keygen, filed in
    allow-list directories as an operator would, and looked up as the
    ZAP handler looks them up. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ts_curve.h"

typedef struct {
    char dir [64];              //  temporary directory
    char path [256];            //  scratch path
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *self = calloc (1, sizeof (fixture_t));
    snprintf (self->dir, sizeof self->dir, "/tmp/test_ts_curve.XXXXXX");
    assert_non_null (mkdtemp (self->dir));
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *self = *state;
    char cmd [128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", self->dir);
    assert_int_equal (system (cmd), 0);
    free (self);
    return 0;
}

static const char *
s_path (fixture_t *self, const char *name)
{
    snprintf (self->path, sizeof self->path, "%s/%s", self->dir, name);
    return self->path;
}

//  A key pair NAME.key in the fixture's directory; its public key Z85 in
//  z85 (41 bytes).
static void
s_keygen (fixture_t *self, const char *name, char *z85)
{
    char path [256], err [TS_ERRLEN] = "";
    snprintf (path, sizeof path, "%s/%s.key", self->dir, name);
    assert_int_equal (ts_curve_keygen (path, name, err), 0);
    zcert_t *cert = ts_curve_cert_load (path, true, err);
    assert_non_null (cert);
    snprintf (z85, 41, "%s", zcert_public_txt (cert));
    zcert_destroy (&cert);
}

//  Files the public key NAME.key into the allow-list directory dir.
static void
s_file (fixture_t *self, const char *name, const char *dir)
{
    char cmd [512];
    snprintf (cmd, sizeof cmd, "mkdir -p %s/%s && cp %s/%s.key %s/%s/",
              self->dir, dir, self->dir, name, self->dir, dir);
    assert_int_equal (system (cmd), 0);
}

static void
role_names_parse_back (void **state)
{
    ts_role_t role;
    assert_int_equal (ts_role_parse ("read", &role), 0);
    assert_int_equal (role, TS_ROLE_READ);
    assert_int_equal (ts_role_parse ("admin", &role), 0);
    assert_string_equal (ts_role_name (role), "admin");
    assert_int_equal (ts_role_parse ("root", &role), TS_EINVAL);
    assert_int_equal (ts_role_parse ("", &role), TS_EINVAL);
}

static void
keygen_writes_a_secret_file_only_the_owner_reads (void **state)
{
    fixture_t *self = *state;
    char z85 [41];
    s_keygen (self, "alice", z85);
    struct stat st;
    assert_int_equal (stat (s_path (self, "alice.key_secret"), &st), 0);
    assert_int_equal (st.st_mode & 0777, 0600);
    assert_int_equal (stat (s_path (self, "alice.key"), &st), 0);
    assert_int_equal (st.st_mode & 0777, 0644);
    assert_int_equal (strlen (z85), 40);
}

static void
keygen_never_overwrites_a_key (void **state)
{
    fixture_t *self = *state;
    char z85 [41], err [TS_ERRLEN] = "";
    s_keygen (self, "bob", z85);
    assert_int_equal (ts_curve_keygen (s_path (self, "bob.key"), "bob", err),
                      TS_EINVAL);
    assert_non_null (strstr (err, "exists already"));
}

static void
cert_load_names_the_missing_secret_file (void **state)
{
    fixture_t *self = *state;
    char z85 [41], err [TS_ERRLEN] = "";
    s_keygen (self, "carol", z85);
    unlink (s_path (self, "carol.key_secret"));
    assert_null (ts_curve_cert_load (s_path (self, "carol.key"), true, err));
    assert_non_null (strstr (err, "carol.key_secret"));
    //  The public half alone still loads, as a server's key for clients.
    zcert_t *cert = ts_curve_cert_load (s_path (self, "carol.key"), false,
                                        err);
    assert_non_null (cert);
    assert_string_equal (zcert_public_txt (cert), z85);
    zcert_destroy (&cert);
}

static void
cert_load_rejects_a_file_that_is_not_a_certificate (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    FILE *f = fopen (s_path (self, "junk.key"), "w");
    fputs ("not a certificate\n", f);
    fclose (f);
    assert_null (ts_curve_cert_load (s_path (self, "junk.key"), false, err));
    assert_non_null (strstr (err, "not a key certificate"));
}

static void
cert_name_is_the_metadata_name (void **state)
{
    fixture_t *self = *state;
    char z85 [41], err [TS_ERRLEN] = "", name [64];
    s_keygen (self, "dave", z85);
    zcert_t *cert = ts_curve_cert_load (s_path (self, "dave.key"), false,
                                        err);
    assert_string_equal (ts_curve_cert_name (cert, name, sizeof name),
                         "dave");
    zcert_destroy (&cert);
}

//  A config whose allow-lists are the fixture's read/ and admin/.
static ts_config_t *
s_config (fixture_t *self)
{
    char text [512], err [TS_ERRLEN] = "";
    snprintf (text, sizeof text, "security:\n  read_clients_dir: %s/read\n"
              "  admin_clients_dir: %s/admin\n", self->dir, self->dir);
    ts_config_t *cfg = ts_config_load_text (text, "test.yaml", err);
    assert_non_null (cfg);
    return cfg;
}

static void
lookup_gives_the_role_of_the_directory_a_key_is_filed_in (void **state)
{
    fixture_t *self = *state;
    char reader [41], admin [41], both [41], stranger [41];
    s_keygen (self, "reader", reader);
    s_keygen (self, "admin", admin);
    s_keygen (self, "both", both);
    s_keygen (self, "stranger", stranger);
    s_file (self, "reader", "read");
    s_file (self, "admin", "admin");
    s_file (self, "both", "read");
    s_file (self, "both", "admin");
    ts_config_t *cfg = s_config (self);
    char err [TS_ERRLEN] = "";
    ts_curve_t *curve = ts_curve_new (cfg, "test", err);
    assert_int_equal (ts_curve_allow (curve, TS_ZAP_CLIENTS,
                                      "security.read_clients_dir",
                                      TS_ROLE_READ, err), 0);
    assert_int_equal (ts_curve_allow (curve, TS_ZAP_CLIENTS,
                                      "security.admin_clients_dir",
                                      TS_ROLE_ADMIN, err), 0);
    const char *name;
    assert_int_equal (ts_curve_lookup (curve, TS_ZAP_CLIENTS, reader, &name),
                      TS_ROLE_READ);
    assert_string_equal (name, "reader");
    assert_int_equal (ts_curve_lookup (curve, TS_ZAP_CLIENTS, admin, &name),
                      TS_ROLE_ADMIN);
    assert_int_equal (ts_curve_lookup (curve, TS_ZAP_CLIENTS, both, &name),
                      TS_ROLE_ADMIN);
    assert_int_equal (ts_curve_lookup (curve, TS_ZAP_CLIENTS, stranger,
                                       &name), TS_ROLE_NONE);
    assert_string_equal (name, "");
    //  Another domain lists none of them.
    assert_int_equal (ts_curve_lookup (curve, TS_ZAP_WORKERS, admin, &name),
                      TS_ROLE_NONE);
    //  A key filed later is found without a restart.
    s_file (self, "stranger", "read");
    assert_int_equal (ts_curve_lookup (curve, TS_ZAP_CLIENTS, stranger,
                                       &name), TS_ROLE_READ);
    ts_curve_destroy (&curve);
    ts_config_destroy (&cfg);
}

static void
allow_names_the_key_of_a_missing_directory (void **state)
{
    fixture_t *self = *state;
    ts_config_t *cfg = s_config (self);
    char err [TS_ERRLEN] = "";
    ts_curve_t *curve = ts_curve_new (cfg, "test", err);
    assert_int_equal (ts_curve_allow (curve, TS_ZAP_CLIENTS,
                                      "security.read_clients_dir",
                                      TS_ROLE_READ, err), TS_ECONFIG);
    assert_non_null (strstr (err, "security.read_clients_dir"));
    ts_curve_destroy (&curve);
    ts_config_destroy (&cfg);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (role_names_parse_back),
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
        T (keygen_writes_a_secret_file_only_the_owner_reads),
        T (keygen_never_overwrites_a_key),
        T (cert_load_names_the_missing_secret_file),
        T (cert_load_rejects_a_file_that_is_not_a_certificate),
        T (cert_name_is_the_metadata_name),
        T (lookup_gives_the_role_of_the_directory_a_key_is_filed_in),
        T (allow_names_the_key_of_a_missing_directory),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_curve", tests, NULL, NULL);
}
