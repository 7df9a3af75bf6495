/*  fuzz.h - what the libFuzzer targets of fuzz/ share: the entry points
    libFuzzer calls, and a NUL-terminated copy of its input for parsers
    that take C strings. Each target is one fuzz_NAME.c with its seed
    corpus in fuzz/corpus/NAME/; fuzz/run.sh and docs/robustness.md say
    how they are built and run. Header-only, static inline. */

#ifndef FUZZ_H_INCLUDED
#define FUZZ_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

//  A malloc'd copy of data with a NUL after it (the caller frees), or
//  NULL if out of memory. A NUL inside data ends the C string early,
//  as it would for the code under test.
static inline char *
fuzz_cstr (const uint8_t *data, size_t size)
{
    char *text = malloc (size + 1);
    if (text) {
        if (size)
            memcpy (text, data, size);
        text [size] = 0;
    }
    return text;
}

//  Takes the first byte of the input, which picks what the rest is, as
//  one of n modes: *mode gets it modulo n, *data and *size skip it.
//  False if the input is empty.
static inline bool
fuzz_mode (const uint8_t **data, size_t *size, unsigned n, unsigned *mode)
{
    if (*size < 1)
        return false;
    *mode = **data % n;
    (*data)++;
    (*size)--;
    return true;
}

#endif
