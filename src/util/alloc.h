/*
 * The one place src/util, src/crypto and src/keys get heap memory from
 * (scripts/checksrc forbids malloc & co elsewhere in those folders).
 *
 * In the library these are plain malloc/calloc/realloc/free/strdup: no
 * global state, no header in front of blocks, so memory from amk_malloc()
 * may be released with free() and the other way round (the folders not yet
 * converted rely on that).
 *
 * Built with AMIKO_ALLOC_FAULTS defined (only the fault-injection test's
 * private copy of the library, tests/CMakeLists.txt), each allocation first
 * asks a thread-local countdown whether it should fail, so a test can fail
 * the n-th allocation of an operation (tests/alloc/test_alloc_failure.c).
 * Why not a run-time hook in the shipped library: it would be global state
 * read on every allocation and an entry point that makes any program's
 * allocations fail; a separate build costs one more compile of three folders.
 */
#ifndef AMK_UTIL_ALLOC_H
#define AMK_UTIL_ALLOC_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#ifdef AMIKO_ALLOC_FAULTS

void *amk_malloc(size_t n);
void *amk_calloc(size_t nmemb, size_t size);
void *amk_realloc(void *p, size_t n);
char *amk_strdup(const char *s);
char *amk_strndup(const char *s, size_t n);

/*
 * Test hooks: after amk_alloc_fault_arm(n), the n-th allocation from now
 * fails (n >= 1; 0 disarms). amk_alloc_fault_tick() counts one allocation
 * and returns 1 when it must fail (for OpenSSL's hooks in the test).
 * amk_alloc_fault_fired() is 1 once the armed failure happened.
 */
void amk_alloc_fault_arm(unsigned long n);
/* Called at the moment the armed failure happens (to stop in a debugger). */
void amk_alloc_fault_set_callback(void (*fn)(void));
int amk_alloc_fault_tick(void);
int amk_alloc_fault_fired(void);

#else

static inline void *
amk_malloc(size_t n)
{
    return malloc(n);
}

static inline void *
amk_calloc(size_t nmemb, size_t size)
{
    return calloc(nmemb, size);
}

static inline void *
amk_realloc(void *p, size_t n)
{
    return realloc(p, n);
}

static inline char *
amk_strdup(const char *s)
{
    return strdup(s);
}

static inline char *
amk_strndup(const char *s, size_t n)
{
    return strndup(s, n);
}

#endif

static inline void
amk_free(void *p)
{
    free(p);
}

#endif
