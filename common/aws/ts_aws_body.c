/*  ts_aws_body - an answer's body collected under a cap (see
    ts_aws_body.h). */

#include "ts_aws_body.h"

#include <stdlib.h>
#include <string.h>

size_t
ts_aws_body_write (char *p, size_t size, size_t n, void *arg)
{
    ts_aws_body_t *b = arg;
    size_t len = size * n;
    if (b->size + len > b->max) {
        b->over = true;
        return 0;
    }
    if (b->size + len + 1 > b->cap) {
        size_t cap = b->cap? b->cap: 4096;
        while (cap < b->size + len + 1)
            cap *= 2;
        char *grown = realloc (b->data, cap);
        if (!grown)
            return 0;
        b->data = grown;
        b->cap = cap;
    }
    memcpy (b->data + b->size, p, len);
    b->size += len;
    b->data [b->size] = 0;
    return len;
}
