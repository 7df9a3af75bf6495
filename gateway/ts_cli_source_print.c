/*  ts_cli_source_print - `tscache source test`: the report, as text or
    as one JSON object (ts_cli_source_test.h). Every text it prints was
    redacted by the fetch (ts_cli_source_test.c). */

#include "ts_cli_source_test.h"
#include "ts_json.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define S_TIME_MAX  40
#define S_COL_MIN   10          //  narrowest measure column

//  ---------------------------------------------------------------------
//  Text

static void
s_print_call (const ts_cli_test_call_t *call, FILE *out)
{
    if (call->answered)
        fprintf (out, "HTTP %ld, %zu bytes, %" PRId64 " ms\n", call->status,
                 call->bytes, call->ms);
    else
        fprintf (out, "no answer\n");
}

//  The column of measure (its index in names), or -1.
static int
s_column (const ts_points_t *all, const char *measure)
{
    for (size_t k = 0; k < all->n_measures; k++)
        if (strcmp (all->measures [k], measure) == 0)
            return (int) k;
    return -1;
}

//  Prints the rows of list (sorted here): one per time, a value per
//  measure column of all ("-" for none).
static int
s_print_rows (const ts_points_t *all, ts_points_t *list, const char *role,
              const int *widths, FILE *out)
{
    if (ts_points_sort (list) != 0)
        return -1;
    const char **cells = calloc (all->n_measures + 1, sizeof *cells);
    char (*text) [32] = calloc (all->n_measures + 1, sizeof *text);
    if (!cells || !text) {
        free (cells);
        free (text);
        return -1;
    }
    for (size_t i = 0; i < list->n; ) {
        int64_t t = list->time_ms [i];
        for (size_t k = 0; k < all->n_measures; k++)
            cells [k] = "-";
        for (; i < list->n && list->time_ms [i] == t; i++) {
            int k = s_column (all, ts_points_measure (list, i));
            if (k < 0)
                continue;
            ts_json_format_double (list->value [i], text [k], sizeof text [k]);
            cells [k] = text [k];
        }
        char when [S_TIME_MAX];
        fprintf (out, "%-24s  %-8s", ts_time_format (t, when, sizeof when),
                 role);
        for (size_t k = 0; k < all->n_measures; k++)
            fprintf (out, "  %*s", widths [k], cells [k]);
        fputc ('\n', out);
    }
    free (cells);
    free (text);
    return 0;
}

static int
s_print_table (const ts_cli_test_t *test, FILE *out)
{
    const ts_points_t *all = test->all;
    if (all->n == 0) {
        fprintf (out, "no points\n");
        return 0;
    }
    int *widths = calloc (all->n_measures, sizeof *widths);
    if (!widths)
        return -1;
    fprintf (out, "%-24s  %-8s", "TIME", "ROLE");
    for (size_t k = 0; k < all->n_measures; k++) {
        int len = (int) strlen (all->measures [k]);
        widths [k] = len > S_COL_MIN? len: S_COL_MIN;
        fprintf (out, "  %*s", widths [k], all->measures [k]);
    }
    fputc ('\n', out);
    int rc = s_print_rows (all, test->history, "history", widths, out);
    if (rc == 0)
        rc = s_print_rows (all, test->forecast, "forecast", widths, out);
    free (widths);
    return rc;
}

int
ts_cli_source_test_print (const ts_cli_test_t *test, FILE *out)
{
    char from [S_TIME_MAX], to [S_TIME_MAX];
    fprintf (out, "source   %s\nid       %s\nwindow   %s .. %s\n",
             test->source, test->id,
             ts_time_format (test->from_ms, from, sizeof from),
             ts_time_format (test->to_ms, to, sizeof to));
    if (test->has_token) {
        fprintf (out, "token    %s %s: ", test->token.method,
                 test->token.url);
        s_print_call (&test->token, out);
    }
    if (test->npages > 0) {
        fprintf (out, "request  %s %s\n", test->pages [0].method,
                 test->pages [0].url);
        for (size_t i = 0; i < test->headers->n; i++)
            fprintf (out, "         %s\n", test->headers->items [i]);
        if (test->body)
            fprintf (out, "body     %s\n", test->body);
    }
    for (size_t i = 0; i < test->npages; i++) {
        const ts_cli_test_call_t *call = &test->pages [i];
        fprintf (out, "page %-3zu ", i + 1);
        if (i > 0)
            fprintf (out, "%s %s: ", call->method, call->url);
        s_print_call (call, out);
    }
    fputc ('\n', out);
    if (*test->error) {
        fprintf (out, "error    %s\n", test->error);
        return ferror (out)? -1: 0;
    }
    if (s_print_table (test, out) != 0)
        return -1;
    fprintf (out, "\npoints %zu (history %zu, forecast %zu), nulls %zu, "
             "null markers %zu, dropped %zu (%zu times), warnings %zu\n",
             test->all->n, test->history->n, test->forecast->n, test->nulls,
             test->null_markers, test->dropped, test->dropped_times,
             test->warnings_n);
    if (test->truncated)
        fprintf (out, "warning: stopped at upstream.pagination.max_pages "
                 "with more pages left (at_max_pages: keep)\n");
    for (size_t i = 0; i < test->warnings->n; i++)
        fprintf (out, "warning: %s\n", test->warnings->items [i]);
    if (test->warnings_n > test->warnings->n)
        fprintf (out, "(%zu more warnings not shown)\n",
                 test->warnings_n - test->warnings->n);
    return ferror (out)? -1: 0;
}

//  ---------------------------------------------------------------------
//  JSON

static void
s_json_key (ts_json_t *json, const char *key)
{
    ts_json_raw (json, ",\"");
    ts_json_raw (json, key);
    ts_json_raw (json, "\":");
}

static void
s_json_time (ts_json_t *json, const char *key, int64_t ms)
{
    char text [S_TIME_MAX];
    s_json_key (json, key);
    ts_json_str (json, ts_time_format (ms, text, sizeof text));
}

static void
s_json_call (ts_json_t *json, const ts_cli_test_call_t *call)
{
    ts_json_raw (json, "{\"method\":");
    ts_json_str (json, call->method);
    s_json_key (json, "url");
    ts_json_str (json, call->url);
    s_json_key (json, "status");
    if (call->answered)
        ts_json_int (json, call->status);
    else
        ts_json_raw (json, "null");
    s_json_key (json, "bytes");
    ts_json_uint (json, call->bytes);
    s_json_key (json, "ms");
    ts_json_int (json, call->ms);
    ts_json_raw (json, "}");
}

static void
s_json_strlist (ts_json_t *json, const ts_strlist_t *list)
{
    ts_json_raw (json, "[");
    for (size_t i = 0; i < list->n; i++) {
        ts_json_raw (json, i? ",": "");
        ts_json_str (json, list->items [i]);
    }
    ts_json_raw (json, "]");
}

//  Appends the points of list (sorted here), each with its role.
static int
s_json_points (ts_json_t *json, ts_points_t *list, const char *role,
               bool *first)
{
    if (ts_points_sort (list) != 0)
        return -1;
    for (size_t i = 0; i < list->n; i++) {
        char when [S_TIME_MAX];
        ts_json_raw (json, *first? "{\"time\":": ",{\"time\":");
        *first = false;
        ts_json_str (json, ts_time_format (list->time_ms [i], when,
                                           sizeof when));
        s_json_key (json, "time_ms");
        ts_json_int (json, list->time_ms [i]);
        s_json_key (json, "role");
        ts_json_str (json, role);
        s_json_key (json, "measure");
        ts_json_str (json, ts_points_measure (list, i));
        s_json_key (json, "value");
        ts_json_double (json, list->value [i]);
        ts_json_raw (json, "}");
    }
    return 0;
}

static void
s_json_report (ts_json_t *json, const ts_cli_test_t *test)
{
    const struct { const char *name; size_t value; } counts [] = {
        { "points", test->all->n }, { "history", test->history->n },
        { "forecast", test->forecast->n }, { "nulls", test->nulls },
        { "null_markers", test->null_markers },
        { "dropped", test->dropped },
        { "dropped_times", test->dropped_times },
        { "warnings", test->warnings_n } };
    for (size_t i = 0; i < sizeof counts / sizeof counts [0]; i++) {
        ts_json_raw (json, i? ",\"": "{\"");
        ts_json_raw (json, counts [i].name);
        ts_json_raw (json, "\":");
        ts_json_uint (json, counts [i].value);
    }
    s_json_key (json, "truncated");
    ts_json_raw (json, test->truncated? "true}": "false}");
}

int
ts_cli_source_test_json (const ts_cli_test_t *test, FILE *out)
{
    ts_json_t *json = ts_json_new ();
    if (!json)
        return -1;
    ts_json_raw (json, "{\"source\":");
    ts_json_str (json, test->source);
    s_json_key (json, "id");
    ts_json_str (json, test->id);
    s_json_key (json, "window");
    ts_json_raw (json, "{\"from_ms\":");
    ts_json_int (json, test->from_ms);
    s_json_key (json, "to_ms");
    ts_json_int (json, test->to_ms);
    s_json_time (json, "from", test->from_ms);
    s_json_time (json, "to", test->to_ms);
    ts_json_raw (json, "}");
    s_json_time (json, "now", test->now_ms);
    s_json_key (json, "token");
    if (test->has_token)
        s_json_call (json, &test->token);
    else
        ts_json_raw (json, "null");
    s_json_key (json, "request");
    if (test->npages > 0) {
        ts_json_raw (json, "{\"method\":");
        ts_json_str (json, test->pages [0].method);
        s_json_key (json, "url");
        ts_json_str (json, test->pages [0].url);
        s_json_key (json, "headers");
        s_json_strlist (json, test->headers);
        s_json_key (json, "body");
        if (test->body)
            ts_json_str (json, test->body);
        else
            ts_json_raw (json, "null");
        ts_json_raw (json, "}");
    }
    else
        ts_json_raw (json, "null");
    s_json_key (json, "pages");
    ts_json_raw (json, "[");
    for (size_t i = 0; i < test->npages; i++) {
        ts_json_raw (json, i? ",": "");
        s_json_call (json, &test->pages [i]);
    }
    ts_json_raw (json, "]");
    s_json_key (json, "measures");
    ts_json_raw (json, "[");
    for (size_t k = 0; k < test->all->n_measures; k++) {
        ts_json_raw (json, k? ",": "");
        ts_json_str (json, test->all->measures [k]);
    }
    ts_json_raw (json, "]");
    s_json_key (json, "points");
    ts_json_raw (json, "[");
    bool first = true;
    int rc = s_json_points (json, test->history, "history", &first);
    if (rc == 0)
        rc = s_json_points (json, test->forecast, "forecast", &first);
    ts_json_raw (json, "]");
    s_json_key (json, "report");
    s_json_report (json, test);
    s_json_key (json, "warnings");
    s_json_strlist (json, test->warnings);
    s_json_key (json, "ok");
    ts_json_raw (json, *test->error? "false": "true");
    s_json_key (json, "error");
    if (*test->error)
        ts_json_str (json, test->error);
    else
        ts_json_raw (json, "null");
    ts_json_raw (json, "}\n");
    if (rc == 0 && ts_json_failed (json))
        rc = -1;
    if (rc == 0
    &&  fwrite (ts_json_data (json), 1, ts_json_size (json), out)
        != ts_json_size (json))
        rc = -1;
    ts_json_destroy (&json);
    return rc;
}
