/*  alloccount - counts a process's heap allocations, for make bench
    (figure 9: the broker's allocations per job).

    A shared object preloaded into the process measured:

        LD_PRELOAD=build/bench/alloccount.so ALLOCCOUNT_DIR=DIR prog

    It puts malloc, calloc, realloc, aligned_alloc, memalign and
    posix_memalign in front of glibc's (which do the work: __libc_malloc
    and friends, so no dlsym at start) and counts the calls in a file
    DIR/NAME that it maps shared, NAME being the program's short name
    (program_invocation_short_name): the file can be read at any time
    while the program runs, and several programs may share DIR.

    The file holds six native-endian uint64 counters:

        0  calls made by the process's first thread (its main loop)
        1  calls made by its other threads (libzmq's I/O threads ...)
        2  bytes asked for by the first thread
        3  bytes asked for by the other threads
        4  frees by the first thread
        5  frees by the other threads

    Counting is a relaxed atomic add. Without ALLOCCOUNT_DIR, or if
    the file cannot be made, the process runs unchanged and nothing is
    counted. For LD_PRELOAD only (its thread-local flag is initial-exec);
    valloc, pvalloc and reallocarray are not counted (nothing measured
    calls them). Bench tooling only: never linked into a tscache
    binary. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void *__libc_malloc (size_t size);
extern void *__libc_calloc (size_t n, size_t size);
extern void *__libc_realloc (void *ptr, size_t size);
extern void *__libc_memalign (size_t align, size_t size);
extern void __libc_free (void *ptr);

#define S_COUNTERS 6

static uint64_t *s_counts;                  //  NULL: not counting
static pid_t s_main;                        //  the first thread's id
static __thread int s_is_main
    __attribute__ ((tls_model ("initial-exec"))) = -1;

__attribute__ ((constructor))
static void
s_open (void)
{
    const char *dir = getenv ("ALLOCCOUNT_DIR");
    if (!dir || !*dir)
        return;
    char path [PATH_MAX];
    if (snprintf (path, sizeof path, "%s/%s", dir,
                  program_invocation_short_name) >= (int) sizeof path)
        return;
    int fd = open (path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd == -1)
        return;
    size_t size = S_COUNTERS * sizeof (uint64_t);
    void *map = MAP_FAILED;
    if (ftruncate (fd, (off_t) size) == 0)
        map = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close (fd);
    if (map == MAP_FAILED)
        return;
    s_main = getpid ();
    s_counts = map;
}

static void
s_count (int what, size_t size)
{
    if (!s_counts)
        return;
    if (s_is_main < 0)
        s_is_main = (pid_t) syscall (SYS_gettid) == s_main;
    int other = !s_is_main;
    __atomic_fetch_add (&s_counts [what + other], 1, __ATOMIC_RELAXED);
    if (what == 0)
        __atomic_fetch_add (&s_counts [2 + other], size, __ATOMIC_RELAXED);
}

void *
malloc (size_t size)
{
    s_count (0, size);
    return __libc_malloc (size);
}

void *
calloc (size_t n, size_t size)
{
    size_t bytes;
    s_count (0, __builtin_mul_overflow (n, size, &bytes)? SIZE_MAX: bytes);
    return __libc_calloc (n, size);
}

void *
realloc (void *ptr, size_t size)
{
    s_count (0, size);
    return __libc_realloc (ptr, size);
}

void *
memalign (size_t align, size_t size)
{
    s_count (0, size);
    return __libc_memalign (align, size);
}

void *
aligned_alloc (size_t align, size_t size)
{
    return memalign (align, size);
}

int
posix_memalign (void **out, size_t align, size_t size)
{
    if (align == 0 || align % sizeof (void *) || (align & (align - 1)))
        return EINVAL;
    int saved = errno;
    void *p = memalign (align, size);
    errno = saved;                  //  posix_memalign leaves errno alone
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

void
free (void *ptr)
{
    if (ptr)
        s_count (4, 0);
    __libc_free (ptr);
}
