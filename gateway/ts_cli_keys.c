/*  ts_cli_keys - the CLI's key commands. See ts_cli_keys.h. */

#include "ts_cli_keys.h"
#include "ts_curve.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
ts_cli_keys_gen (const char *path)
{
    const char *slash = strrchr (path, '/');
    char name [128];
    snprintf (name, sizeof name, "%s", slash? slash + 1: path);
    size_t len = strlen (name);
    if (len > 4 && strcmp (name + len - 4, ".key") == 0)
        name [len - 4] = 0;
    char err [TS_ERRLEN] = "";
    if (ts_curve_keygen (path, name, err)) {
        fprintf (stderr, "tscache: keygen: %s\n", err);
        return -1;
    }
    printf ("%s: public key (give it to the server's allow-list)\n"
            "%s_secret: secret key (mode 0600; keep it here)\n", path, path);
    return 0;
}

//  mkdir -p of path's directories (path itself too if whole).
static int
s_mkdirs (const char *path, bool whole)
{
    char dir [PATH_MAX];
    snprintf (dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir (dir, 0755) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return whole && mkdir (dir, 0755) && errno != EEXIST? -1: 0;
}

//  Copies the public key of cert_path into dir (as its file name) unless
//  a file of that name is there. Returns 0 or -1 (said on stderr).
static int
s_allow (const char *cert_path, const char *dir)
{
    const char *slash = strrchr (cert_path, '/');
    char dest [PATH_MAX];
    snprintf (dest, sizeof dest, "%s/%s", dir, slash? slash + 1: cert_path);
    if (access (dest, F_OK) == 0)
        return 0;
    char err [TS_ERRLEN] = "";
    zcert_t *cert = ts_curve_cert_load (cert_path, false, err);
    int rc = cert && s_mkdirs (dir, true) == 0
          && zcert_save_public (cert, dest) == 0? 0: -1;
    zcert_destroy (&cert);
    if (rc)
        fprintf (stderr, "tscache: keys init: %s\n",
                 *err? err: strerror (errno));
    else
        printf ("allowed %s in %s\n", cert_path, dir);
    return rc;
}

int
ts_cli_keys_init (const ts_config_t *cfg)
{
    static const struct {
        const char *cert;           //  config key of the pair
        const char *allow [2];      //  config keys of its allow-lists
    } keys [] = {
        { "security.broker_cert",  { NULL, NULL } },
        { "security.gateway_cert", { "security.broker_clients_dir", NULL } },
        { "security.worker_cert",  { "security.workers_dir", NULL } },
        { "security.cli_cert",     { "security.broker_clients_dir",
                                     "security.admin_clients_dir" } },
    };
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof keys / sizeof keys [0];
         i++) {
        const char *path = ts_config_str (cfg, keys [i].cert);
        char secret [PATH_MAX + 8];
        snprintf (secret, sizeof secret, "%s_secret", path);
        if (access (secret, F_OK) != 0) {
            if (s_mkdirs (path, false) == 0)
                rc = ts_cli_keys_gen (path);
            else {
                fprintf (stderr, "tscache: keys init: %s: %s\n", path,
                         strerror (errno));
                rc = -1;
            }
        }
        for (size_t j = 0; rc == 0 && j < 2 && keys [i].allow [j];
             j++)
            rc = s_allow (path, ts_config_str (cfg, keys [i].allow [j]));
    }
    //  The read-only list exists, empty, so the gateway starts.
    if (rc == 0
    &&  s_mkdirs (ts_config_str (cfg, "security.read_clients_dir"), true)) {
        fprintf (stderr, "tscache: keys init: %s: %s\n",
                 ts_config_str (cfg, "security.read_clients_dir"),
                 strerror (errno));
        rc = -1;
    }
    return rc;
}

