/* see util/secure.h */
#include "util/secure.h"
#include "util/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void
amk_wipe(void *p, size_t len)
{
    if (p != NULL && len > 0)
        explicit_bzero(p, len);
}

void
amk_free_wiped(void *p, size_t len)
{
    if (p == NULL)
        return;
    amk_wipe(p, len);
    amk_free(p);
}

int
amk_ct_equal(const void *a, const void *b, size_t len)
{
    const volatile uint8_t *x = a;
    const volatile uint8_t *y = b;
    uint8_t diff = 0;

    for (size_t i = 0; i < len; i++)
        diff |= x[i] ^ y[i];
    /* 1 when diff == 0, without a data-dependent branch */
    return (int)(1 & ((uint32_t)(diff - 1) >> 8));
}
