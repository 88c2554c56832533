/* Allocation wrappers; see alloc.h. Empty unless AMIKO_ALLOC_FAULTS. */
#include "util/alloc.h"

#ifdef AMIKO_ALLOC_FAULTS

/* Allocations left before the one that fails (0: disarmed). */
static _Thread_local unsigned long fault_countdown;
static _Thread_local int fault_fired;
static _Thread_local void (*fault_fn)(void);

void
amk_alloc_fault_set_callback(void (*fn)(void))
{
    fault_fn = fn;
}

void
amk_alloc_fault_arm(unsigned long n)
{
    fault_countdown = n;
    fault_fired = 0;
}

int
amk_alloc_fault_tick(void)
{
    if (fault_countdown == 0)
        return 0;
    if (--fault_countdown != 0)
        return 0;
    fault_fired = 1;
    if (fault_fn != NULL)
        fault_fn();
    return 1;
}

int
amk_alloc_fault_fired(void)
{
    return fault_fired;
}

void *
amk_malloc(size_t n)
{
    return amk_alloc_fault_tick() ? NULL : malloc(n);
}

void *
amk_calloc(size_t nmemb, size_t size)
{
    return amk_alloc_fault_tick() ? NULL : calloc(nmemb, size);
}

void *
amk_realloc(void *p, size_t n)
{
    return amk_alloc_fault_tick() ? NULL : realloc(p, n);
}

char *
amk_strdup(const char *s)
{
    return amk_alloc_fault_tick() ? NULL : strdup(s);
}

char *
amk_strndup(const char *s, size_t n)
{
    return amk_alloc_fault_tick() ? NULL : strndup(s, n);
}

#else

/* ISO C forbids an empty translation unit. */
typedef int amk_alloc_unused;

#endif
