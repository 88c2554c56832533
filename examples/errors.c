/*
 * Example: amiko's error convention. Every call returns AMK_OK or a negative
 * AMK_E... code; amk_strerror() describes it and amk_err_is_fatal() says
 * whether the object that returned it can still be used.
 */
#include <stdio.h>

#include <amiko.h>

int
main(void)
{
    int r = amk_init();

    if (r != AMK_OK) {
        fprintf(stderr, "amk_init: %s\n", amk_strerror(r));
        return 1;
    }
    printf("amiko %s\n", amk_version());
    const int codes[] = { AMK_EAGAIN, AMK_EMAC, AMK_EHOSTKEY_CHANGED, AMK_ETIMEOUT };
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        printf("%-22s %-40s fatal=%d\n", amk_errname(codes[i]), amk_strerror(codes[i]),
            amk_err_is_fatal(codes[i]));
    return 0;
}
