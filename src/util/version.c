/* see amiko/common.h */
#include <amiko/common.h>

const char *
amk_version(void)
{
    return AMK_VERSION_STRING;
}
