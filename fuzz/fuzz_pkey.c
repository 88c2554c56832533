/*
 * Fuzz target for crypto/pkey.c and the pkey_*.c families.
 *
 * Input: byte 0 picks a key type, byte 1 a mode.
 *  - Mode even (from_parts): the rest is a list of components, each
 *    [part index][length, 2 bytes big-endian][bytes], fed to
 *    amk_pkey_from_parts; an accepted key is read back part by part,
 *    copied, compared and (when small) used to sign and verify.
 *  - Mode odd (verify): byte 2 picks a hash, the rest is a signature
 *    checked against a fixed public key of the type (the RFC 8032,
 *    RFC 6979 and test RSA keys of tests/unit/test_pkey.c).
 * Invariants: no crash or leak (ASan); verify answers only AMK_OK,
 * AMK_ESIGNATURE or AMK_EINVAL; an accepted key round-trips.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <amiko/error.h>

#include "crypto/pkey.h"
#include "util/secure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Keys larger than this are built and checked but not used to sign. */
#define FUZZ_SIGN_MAX_BITS 4096

struct fixed_key {
    enum amk_pkey_type type;
    const char *parts[AMK_PART_COUNT];
    const char *message;
};

static const struct fixed_key fixed_keys[] = {
    {   /* RFC 8032 §7.1 TEST 1; its message is empty */
        AMK_PKEY_ED25519,
        { [AMK_PART_PUBLIC] = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a" },
        "",
    },
    {   /* RFC 6979 §A.2.5 */
        AMK_PKEY_ECDSA_P256,
        { [AMK_PART_PUBLIC] = "04"
            "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"
            "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299" },
        "sample",
    },
    {   /* RFC 6979 §A.2.6 */
        AMK_PKEY_ECDSA_P384,
        { [AMK_PART_PUBLIC] = "04"
            "EC3A4E415B4E19A4568618029F427FA5DA9A8BC4AE92E02E06AAE5286B300C64"
            "DEF8F0EA9055866064A254515480BC13"
            "8015D9B72D7D57244EA8EF9AC0C621896708A59367F9DFB9F54CA84B3F1C9DB1"
            "288B231C3AE0D4FE7344FD2533264720" },
        "sample",
    },
    {   /* RFC 6979 §A.2.7 */
        AMK_PKEY_ECDSA_P521,
        { [AMK_PART_PUBLIC] = "04"
            "01894550D0785932E00EAA23B694F213F8C3121F86DC97A04E5A7167DB4E5BCD3"
            "71123D46E45DB6B5D5370A7F20FB633155D38FFA16D2BD761DCAC474B9A2F5023A4"
            "00493101C962CD4D2FDDF782285E64584139C2F91B47F87FF82354D6630F746A2"
            "8A0DB25741B5B34A828008B22ACC23F924FAAFBD4D33F81EA66956DFEAA2BFDFCF5" },
        "sample",
    },
    {   /* tests/unit/test_pkey.c's RSA-2048 key */
        AMK_PKEY_RSA,
        {
            [AMK_PART_RSA_N] =
                "f0b3cfef583c1fed77a7f05958f84ad35f42cd2e289d2656239dfffb822f0c59"
                "377011ec1dba43e86da50370c19fc5e6929578693f53589960c2361e303715e3"
                "cbd4d60b28de41690a4bfdd95bd9173f6180db288b0433a1bcdb38c5565c9493"
                "835922e4090cf16920e5e3d75654ac68b3436479bc090fb6dfac1ab42f801dc2"
                "889b81fa952541b796e9d41403d7c2ff53cba01cee83ec7254e08daef4ff939e"
                "57a2d372ddc69fa42762c8dbf0019fc4849a79c4b81bdb0fe10971574f083364"
                "8303377fb6f42c3fb1c7eb2d97aaad634edbee0aa54ec16528d1de611f1b32eb"
                "1fc719a0c89e95588f7f29248922c99ae0c2f163db670a681fb8eab9d6f9bfbf",
            [AMK_PART_RSA_E] = "010001",
        },
        "sample",
    },
    {   /* RFC 6979 §A.2.1 */
        AMK_PKEY_DSA,
        {
            [AMK_PART_DSA_P] =
                "86F5CA03DCFEB225063FF830A0C769B9DD9D6153AD91D7CE27F787C43278B447"
                "E6533B86B18BED6E8A48B784A14C252C5BE0DBF60B86D6385BD2F12FB763ED88"
                "73ABFD3F5BA2E0A8C0A59082EAC056935E529DAF7C610467899C77ADEDFC846C"
                "881870B7B19B2B58F9BE0521A17002E3BDD6B86685EE90B3D9A1B02B782B1779",
            [AMK_PART_DSA_Q] = "996F967F6C8E388D9E28D01E205FBA957A5698B1",
            [AMK_PART_DSA_G] =
                "07B0F92546150B62514BB771E2A0C0CE387F03BDA6C56B505209FF25FD3C133D"
                "89BBCD97E904E09114D9A7DEFDEADFC9078EA544D2E401AEECC40BB9FBBF78FD"
                "87995A10A1C27CB7789B594BA7EFB5C4326A9FE59A070E136DB77175464ADCA4"
                "17BE5DCE2F40D10A46A3A3943F26AB7FD9C0398FF8C76EE0A56826A8A88F1DBD",
            [AMK_PART_DSA_Y] =
                "5DF5E01DED31D0297E274E1691C192FE5868FEF9E19A84776454B100CF16F653"
                "92195A38B90523E2542EE61871C0440CB87C322FC4B4D2EC5E1E7EC766E1BE8D"
                "4CE935437DC11C3C8FD426338933EBFE739CB3465F4D3668C5E473508253B1E6"
                "82F65CBDC4FAE93C2EA212390E54905A86E2223170B44EAA7DA5DD9FFCFB7F3B",
        },
        "sample",
    },
};

#define NFIXED (sizeof(fixed_keys) / sizeof(fixed_keys[0]))

static const enum amk_hash_alg hashes[] = {
    AMK_HASH_SHA1, AMK_HASH_SHA256, AMK_HASH_SHA384, AMK_HASH_SHA512, AMK_HASH_MD5
};

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c - 'A' + 10;
}

static uint8_t *
unhex(const char *hex, size_t *len)
{
    size_t n = strlen(hex) / 2;
    uint8_t *out = malloc(n + 1);

    if (out == NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
    *len = n;
    return out;
}

static struct amk_pkey *
fixed_key(size_t i)
{
    static struct amk_pkey *keys[NFIXED];
    struct amk_bytes parts[AMK_PART_COUNT];
    uint8_t *bufs[AMK_PART_COUNT] = { NULL };

    if (keys[i] != NULL)
        return keys[i];
    memset(parts, 0, sizeof(parts));
    for (int j = 0; j < AMK_PART_COUNT; j++) {
        if (fixed_keys[i].parts[j] == NULL)
            continue;
        bufs[j] = unhex(fixed_keys[i].parts[j], &parts[j].len);
        parts[j].p = bufs[j];
    }
    if (amk_pkey_from_parts(&keys[i], fixed_keys[i].type, parts) != AMK_OK)
        abort();
    for (int j = 0; j < AMK_PART_COUNT; j++)
        free(bufs[j]);
    return keys[i];
}

static void
fuzz_verify(size_t type_index, const uint8_t *data, size_t size)
{
    const struct fixed_key *fk = &fixed_keys[type_index];
    enum amk_hash_alg hash;
    int r;

    if (size < 1)
        return;
    hash = hashes[data[0] % (sizeof(hashes) / sizeof(hashes[0]))];
    r = amk_pkey_verify(fixed_key(type_index), hash, (const uint8_t *)fk->message,
        strlen(fk->message), data + 1, size - 1);
    if (r != AMK_OK && r != AMK_ESIGNATURE && r != AMK_EINVAL)
        abort();
    if (r == AMK_EINVAL && fk->type != AMK_PKEY_RSA)
        abort();    /* only RSA has a hash to refuse */
}

/* Uses an accepted key: every part back, a public copy, a signature. */
static void
exercise(struct amk_pkey *k)
{
    static const uint8_t msg[] = "fuzz";
    struct amk_pkey *pub = NULL;
    uint8_t *p, *sig;
    size_t len, siglen;

    for (int i = 0; i < AMK_PART_COUNT; i++) {
        if (amk_pkey_get_part(k, (enum amk_pkey_part)i, &p, &len) == AMK_OK)
            amk_free_wiped(p, len);
    }
    if (amk_pkey_public_copy(k, &pub) != AMK_OK || !amk_pkey_equal_public(k, pub) ||
        amk_pkey_has_private(pub))
        abort();
    if (amk_pkey_has_private(k) && amk_pkey_bits(k) <= FUZZ_SIGN_MAX_BITS &&
        amk_pkey_sign(k, AMK_HASH_SHA256, msg, sizeof(msg), &sig, &siglen) == AMK_OK) {
        if (amk_pkey_verify(pub, AMK_HASH_SHA256, msg, sizeof(msg), sig, siglen) != AMK_OK)
            abort();
        free(sig);
    }
    amk_pkey_free(pub);
}

static void
fuzz_from_parts(enum amk_pkey_type type, const uint8_t *data, size_t size)
{
    struct amk_bytes parts[AMK_PART_COUNT];
    struct amk_pkey *k = NULL;
    size_t off = 0;

    memset(parts, 0, sizeof(parts));
    while (size - off >= 3) {
        unsigned part = data[off] % AMK_PART_COUNT;
        size_t len = (size_t)data[off + 1] << 8 | data[off + 2];

        off += 3;
        if (len > size - off)
            len = size - off;
        parts[part].p = data + off;
        parts[part].len = len;
        off += len;
    }
    if (amk_pkey_from_parts(&k, type, parts) == AMK_OK) {
        if (amk_pkey_type(k) != type)
            abort();
        exercise(k);
    } else if (k != NULL) {
        abort();
    }
    amk_pkey_free(k);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t type_index;

    if (size < 2)
        return 0;
    type_index = data[0] % NFIXED;
    if (data[1] & 1)
        fuzz_verify(type_index, data + 2, size - 2);
    else
        fuzz_from_parts(fixed_keys[type_index].type, data + 2, size - 2);
    return 0;
}
