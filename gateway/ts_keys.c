/*  ts_keys - the gateway's HTTP API keys: parse the key text, hold the
    set behind a rwlock, swap it on reload, look a key up in constant
    time. See ts_keys.h for the format and the contract.

    A set is immutable once built: a reload builds a new one outside the
    lock and takes the write lock only to swap the pointer, so the HTTP
    loops wait for a pointer store, never for parsing. It does not read
    files or the environment (ts_http_key does) nor know HTTP headers
    (ts_route finds the key a request carries). */

#include "ts_keys.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  One set: the keys, their names and roles, parallel.
typedef struct {
    ts_strlist_t *keys;     //  accepted API keys
    ts_strlist_t *names;    //  their names (logged, never the keys)
    ts_role_t    *roles;    //  their roles
} s_set_t;

struct _ts_keys_t {
    s_set_t          *set;  //  the keys in use
    pthread_rwlock_t  lock; //  set: lookups read, ts_keys_set writes
};

//  Wipes the keys and frees the set.
static void
s_set_destroy (s_set_t **self_p)
{
    s_set_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; self->keys && i < self->keys->n; i++) {
        volatile char *p = self->keys->items [i];
        while (*p)
            *p++ = 0;
    }
    ts_strlist_destroy (&self->keys);
    ts_strlist_destroy (&self->names);
    free (self->roles);
    free (self);
    *self_p = NULL;
}

//  Adds one key. Returns 0 or TS_ENOMEM.
static int
s_add_key (s_set_t *self, const char *name, ts_role_t role,
           const char *key, size_t len)
{
    ts_role_t *roles = realloc (self->roles,
                                (self->keys->n + 1) * sizeof (ts_role_t));
    if (!roles)
        return TS_ENOMEM;
    self->roles = roles;
    roles [self->keys->n] = role;
    if (ts_strlist_append (self->names, name))
        return TS_ENOMEM;
    if (ts_strlist_append_n (self->keys, key, len)) {
        ts_strlist_pop (self->names);
        return TS_ENOMEM;
    }
    return 0;
}

//  Reads the keys of text (ts_keys.h): a line "NAME ROLE KEY" is a named
//  key; any other line is comma-separated admin keys named "default"
//  (then "default-2", ...).
static int
s_parse (s_set_t *self, const char *text)
{
    int unnamed = 0;
    const char *p = text;
    while (p && *p) {
        size_t line = strcspn (p, "\n");
        char name [TS_KEYS_NAME], role [8], key [2];
        int used = 0;
        ts_role_t parsed;
        //  Only the fields' shape is read here; the key is copied below.
        int fields = sscanf (p, "%64s %7s %1s%n", name, role, key, &used);
        explicit_bzero (key, sizeof key);
        if (fields == 3
        &&  (size_t) used <= line && !memchr (name, ',', strlen (name))
        &&  ts_role_parse (role, &parsed) == 0) {
            const char *k = p + used - 1;
            const char *end = p + line;
            while (end > k && (end [-1] == ' ' || end [-1] == '\t'
                               || end [-1] == '\r'))
                end--;
            if (s_add_key (self, name, parsed, k, (size_t) (end - k)))
                return TS_ENOMEM;
            p += line + (p [line]? 1: 0);
            continue;
        }
        for (const char *q = p; q < p + line; ) {
            size_t len = strcspn (q, ",\n");
            const char *start = q, *end = q + len;
            while (start < end && (*start == ' ' || *start == '\t'
                                   || *start == '\r'))
                start++;
            while (end > start && (end [-1] == ' ' || end [-1] == '\t'
                                   || end [-1] == '\r'))
                end--;
            if (end > start) {
                char dname [32];
                snprintf (dname, sizeof dname, unnamed? "default-%d"
                                                      : "default",
                          unnamed + 1);
                unnamed++;
                if (s_add_key (self, dname, TS_ROLE_ADMIN, start,
                               (size_t) (end - start)))
                    return TS_ENOMEM;
            }
            q += len + (q [len] == ','? 1: 0);
        }
        p += line + (p [line]? 1: 0);
    }
    return 0;
}

//  A set of text, or NULL (out of memory).
static s_set_t *
s_set_new (const char *text)
{
    s_set_t *self = calloc (1, sizeof (s_set_t));
    if (!self || !(self->keys = ts_strlist_new ())
    ||  !(self->names = ts_strlist_new ())
    ||  s_parse (self, text))
        s_set_destroy (&self);
    return self;
}

//  True if sets a and b hold the same keys with the same names and
//  roles, in the same order.
static bool
s_set_same (const s_set_t *a, const s_set_t *b)
{
    if (a->keys->n != b->keys->n)
        return false;
    for (size_t i = 0; i < a->keys->n; i++)
        if (strcmp (a->keys->items [i], b->keys->items [i])
        ||  strcmp (a->names->items [i], b->names->items [i])
        ||  a->roles [i] != b->roles [i])
            return false;
    return true;
}

ts_keys_t *
ts_keys_new (const char *text)
{
    ts_keys_t *self = calloc (1, sizeof (ts_keys_t));
    if (!self)
        return NULL;
    pthread_rwlock_init (&self->lock, NULL);
    if (!(self->set = s_set_new (text)))
        ts_keys_destroy (&self);
    return self;
}

void
ts_keys_destroy (ts_keys_t **self_p)
{
    if (self_p && *self_p) {
        ts_keys_t *self = *self_p;
        s_set_destroy (&self->set);
        pthread_rwlock_destroy (&self->lock);
        free (self);
        *self_p = NULL;
    }
}

size_t
ts_keys_size (ts_keys_t *self)
{
    pthread_rwlock_rdlock (&self->lock);
    size_t n = self->set->keys->n;
    pthread_rwlock_unlock (&self->lock);
    return n;
}

int
ts_keys_set (ts_keys_t *self, const char *text, bool *changed)
{
    s_set_t *next = s_set_new (text);
    if (!next)
        return TS_ENOMEM;
    if (next->keys->n == 0) {
        s_set_destroy (&next);
        return TS_ENOTFOUND;
    }
    pthread_rwlock_wrlock (&self->lock);
    s_set_t *was = self->set;
    bool same = s_set_same (was, next);
    self->set = next;
    pthread_rwlock_unlock (&self->lock);
    s_set_destroy (&was);
    *changed = !same;
    return 0;
}

bool
ts_keys_lookup (ts_keys_t *self, const char *key, size_t len,
                ts_role_t *role, char *name, size_t size)
{
    if (!key)
        return false;
    pthread_rwlock_rdlock (&self->lock);
    const s_set_t *set = self->set;
    int found = -1;
    for (size_t i = 0; i < set->keys->n; i++) {
        const char *item = set->keys->items [i];
        bool equal = ts_secure_equal (key, len, item, strlen (item));
        found = equal && found < 0? (int) i: found;
    }
    if (found >= 0 && role)
        *role = set->roles [found];
    if (found >= 0 && name)
        ts_strlcpy (name, set->names->items [found], size);
    pthread_rwlock_unlock (&self->lock);
    return found >= 0;
}
