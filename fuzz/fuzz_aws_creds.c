/*  fuzz_aws_creds - what the AWS credential chain reads from outside
    (common/aws/ts_aws_creds.c): the documents the container agent and
    the instance metadata service answer, the shared credentials and
    config files, and the container URL the environment names, which
    decides who gets the container's authorization token.

    The first byte picks what the rest is:
        0  a credentials document (ts_aws_creds_parse_document). A
           refused one must not put its SecretAccessKey or Token in the
           error text
        1  a container credentials URL
           (ts_aws_creds_container_url_allowed)
        2  the shared files: the text up to the first NUL byte is the
           credentials file, the rest the config file, read for profile
           "default" by ts_aws_creds_chain_new (environment, container
           and instance metadata sources off) and
           ts_aws_creds_profile_region. The files are written to a
           directory on /dev/shm (else TMPDIR), removed at exit. */

#include "fuzz.h"
#include "ts_aws_creds.h"
#include "ts_log.h"

#include <jansson.h>
#include <stdio.h>
#include <unistd.h>

static char s_dir [128];
static char s_credentials [160];
static char s_config [160];

static void
s_cleanup (void)
{
    unlink (s_credentials);
    unlink (s_config);
    rmdir (s_dir);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    ts_log_set_level (TS_LOG_ERROR);
    const char *base = access ("/dev/shm", W_OK) == 0? "/dev/shm"
                     : getenv ("TMPDIR")? getenv ("TMPDIR"): "/tmp";
    snprintf (s_dir, sizeof s_dir, "%s/fuzz_aws_creds.XXXXXX", base);
    if (!mkdtemp (s_dir)) {
        perror ("fuzz_aws_creds: mkdtemp");
        exit (1);
    }
    atexit (s_cleanup);
    snprintf (s_credentials, sizeof s_credentials, "%s/credentials", s_dir);
    snprintf (s_config, sizeof s_config, "%s/config", s_dir);
    //  Only the shared files: no other source may answer, nothing may
    //  leave the process.
    const char *unset [] = { "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN", "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT" };
    for (size_t i = 0; i < sizeof unset / sizeof unset [0]; i++)
        unsetenv (unset [i]);
    setenv ("AWS_EC2_METADATA_DISABLED", "true", 1);
    setenv ("AWS_SHARED_CREDENTIALS_FILE", s_credentials, 1);
    setenv ("AWS_CONFIG_FILE", s_config, 1);
    return 0;
}

//  The text with the string members SecretAccessKey and Token given
//  other values of the same length (malloc'd, the caller frees), or
//  NULL if the text is not a JSON object or has neither member (or out
//  of memory).
static char *
s_other_secrets (const char *text)
{
    json_t *doc = json_loads (text, 0, NULL);
    if (!json_is_object (doc)) {
        json_decref (doc);
        return NULL;
    }
    const char *keys [] = { "SecretAccessKey", "Token" };
    bool changed = false;
    for (size_t i = 0; i < 2; i++) {
        const char *value = json_string_value (json_object_get (doc, keys [i]));
        if (!value)
            continue;
        char *other = strdup (value);
        if (!other) {               //  out of memory: no verdict
            json_decref (doc);
            return NULL;
        }
        for (char *c = other; *c; c++)
            *c = *c == 'a'? 'b': 'a';
        json_object_set_new (doc, keys [i], json_string (other));
        free (other);
        changed = true;
    }
    char *dumped = changed? json_dumps (doc, 0): NULL;
    json_decref (doc);
    return dumped;
}

//  A refused document's error must not depend on its SecretAccessKey or
//  Token: the same document with other values of the same length gets
//  the same error. (Looking for the secret in the error text instead
//  misfires when the secret is a word of the message, e.g. a Token of
//  "Expiration" beside an unreadable Expiration.) An accepted document
//  has both keys.
static void
s_document (const char *text)
{
    ts_aws_creds_t creds;
    char err [TS_ERRLEN] = "";
    int rc = ts_aws_creds_parse_document (text, &creds, "fuzz", err);
    if (rc == 0) {
        if (!creds.access_key_id [0] || !creds.secret_access_key [0])
            abort ();               //  accepted without both keys
        return;
    }
    char *other = s_other_secrets (text);
    if (other) {
        char other_err [TS_ERRLEN] = "";
        int other_rc = ts_aws_creds_parse_document (other, &creds, "fuzz",
                                                    other_err);
        if (other_rc != rc || strcmp (err, other_err) != 0)
            abort ();               //  the error follows a secret
        free (other);
    }
}

static void
s_write (const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen (path, "w");
    if (!f)
        abort ();
    if (size && fwrite (data, 1, size, f) != size)
        abort ();
    fclose (f);
}

static void
s_files (const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr (data, 0, size);
    size_t first = nul? (size_t) (nul - data): size;
    s_write (s_credentials, data, first);
    s_write (s_config, nul? nul + 1: data, nul? size - first - 1: 0);
    char err [TS_ERRLEN] = "";
    ts_aws_creds_chain_t *chain = ts_aws_creds_chain_new ("fuzz", 0, err);
    ts_aws_creds_chain_destroy (&chain);
    char region [64];
    if (ts_aws_creds_profile_region (region, sizeof region)
    &&  strlen (region) >= sizeof region)
        abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    unsigned mode;
    if (!fuzz_mode (&data, &size, 3, &mode))
        return 0;
    if (mode == 2) {
        s_files (data, size);
        return 0;
    }
    char *text = fuzz_cstr (data, size);
    if (!text)
        return 0;
    if (mode == 0)
        s_document (text);
    else
        ts_aws_creds_container_url_allowed (text);
    free (text);
    return 0;
}
