/*  ts_influxd - an InfluxDB for the tests: Debian's influxd (1.x) on
    free loopback ports with a generated config in a temporary directory
    (meta, data and wal there, reporting off), started once per test
    process, ready when /ping answers 204, stopped and its directory
    removed when the process exits. Never the system's service.
    Header-only, static inline (ts_nodeserver.h finds the ports).

    TSCACHE_TEST_INFLUXDB_URL, if set, is used instead (another 1.x or a
    3.x with v1 compatibility: the suites then run unchanged against
    it). */

#ifndef TS_INFLUXD_H_INCLUDED
#define TS_INFLUXD_H_INCLUDED

#include <curl/curl.h>
#include <ftw.h>

#include "ts_nodeserver.h"

#define TS_INFLUXD_WAIT_MS  20000   //  longest wait for /ping

static ts_nodeserver_t s_influxd;
static char s_influxd_dir [64];

static inline int
s_influxd_rm (const char *path, const struct stat *st, int flag,
              struct FTW *ftw)
{
    return remove (path);
}

static inline void
s_influxd_stop (void)
{
    if (getpid () != s_influxd.owner)
        return;
    ts_nodeserver_stop (&s_influxd);
    if (*s_influxd_dir)
        nftw (s_influxd_dir, s_influxd_rm, 16, FTW_DEPTH | FTW_PHYS);
}

//  HTTP status of GET url/ping, 0 if no answer.
static inline long
ts_influxd_ping (const char *url)
{
    char ping [160];
    snprintf (ping, sizeof ping, "%s/ping", url);
    CURL *curl = curl_easy_init ();
    long status = 0;
    curl_easy_setopt (curl, CURLOPT_URL, ping);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, 1000L);
    curl_easy_setopt (curl, CURLOPT_NOBODY, 1L);
    if (curl_easy_perform (curl) == CURLE_OK)
        curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup (curl);
    return status;
}

//  The URL of an InfluxDB for tests, started if need be; NULL with the
//  reason in err.
static inline const char *
ts_influxd_url (char *err, size_t size)
{
    static char url [128];
    const char *given = getenv ("TSCACHE_TEST_INFLUXDB_URL");
    if (given && *given)
        return given;
    if (*url)
        return url;
    snprintf (s_influxd_dir, sizeof s_influxd_dir, "/tmp/ts_influxd.XXXXXX");
    if (!mkdtemp (s_influxd_dir)) {
        snprintf (err, size, "influxd: mkdtemp: %s", strerror (errno));
        return NULL;
    }
    int port = ts_nodeserver_port (), rpc = ts_nodeserver_port ();
    char path [128];
    snprintf (path, sizeof path, "%s/influxd.conf", s_influxd_dir);
    FILE *file = fopen (path, "w");
    if (!file) {
        snprintf (err, size, "influxd: %s: %s", path, strerror (errno));
        return NULL;
    }
    fprintf (file, "reporting-disabled = true\n"
             "bind-address = \"127.0.0.1:%d\"\n"
             "[meta]\n  dir = \"%s/meta\"\n"
             "[data]\n  dir = \"%s/data\"\n  wal-dir = \"%s/wal\"\n"
             "  query-log-enabled = false\n"
             "[http]\n  bind-address = \"127.0.0.1:%d\"\n"
             "  log-enabled = false\n"
             "[monitor]\n  store-enabled = false\n"
             "[continuous_queries]\n  enabled = false\n", rpc,
             s_influxd_dir, s_influxd_dir, s_influxd_dir, port);
    fclose (file);
    fflush (NULL);
    pid_t pid = fork ();
    if (pid == 0) {
        setpgid (0, 0);
        char log [128];
        snprintf (log, sizeof log, "%s/influxd.log", s_influxd_dir);
        if (!freopen ("/dev/null", "w", stdout) || !freopen (log, "w", stderr))
            _exit (127);
        execlp ("influxd", "influxd", "-config", path, (char *) NULL);
        _exit (127);
    }
    if (pid < 0) {
        snprintf (err, size, "influxd: fork: %s", strerror (errno));
        return NULL;
    }
    s_influxd.pid = pid;
    s_influxd.owner = getpid ();
    atexit (s_influxd_stop);
    snprintf (url, sizeof url, "http://127.0.0.1:%d", port);
    for (int waited = 0; waited < TS_INFLUXD_WAIT_MS; waited += 50) {
        if (ts_influxd_ping (url) == 204)
            return url;
        if (waitpid (pid, NULL, WNOHANG) == pid) {
            s_influxd.pid = 0;
            snprintf (err, size, "influxd: exited before answering (is "
                      "the influxdb package installed? see %s/influxd.log)",
                      s_influxd_dir);
            url [0] = 0;
            return NULL;
        }
        struct timespec ts = { 0, 50000000L };
        nanosleep (&ts, NULL);
    }
    url [0] = 0;
    ts_nodeserver_stop (&s_influxd);
    snprintf (err, size, "influxd: no /ping answer after %d s",
              TS_INFLUXD_WAIT_MS / 1000);
    return NULL;
}

#endif
