/* The layout of struct amk_key, shared by the files of src/keys only. */
#ifndef AMK_KEYS_KEY_IMPL_H
#define AMK_KEYS_KEY_IMPL_H

#include "crypto/pkey.h"
#include "keys/key.h"

struct amk_key {
    const struct amk_key_info *info;
    struct amk_pkey *pk;        /* owned */
    char *comment;              /* owned; NULL when none */
};

#endif
