/*
 * Example: SSH keys. Generates an Ed25519 key, saves it encrypted in the
 * OpenSSH format with its .pub file, loads it back with a passphrase
 * callback and prints its fingerprints, as `ssh-keygen -l` would.
 *
 *   keys DIR [PASSPHRASE]      writes DIR/id_ed25519 and DIR/id_ed25519.pub
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amiko.h>

/* Hands the passphrase given on the command line to amk_key_load_file(). */
static int
passphrase_cb(void *user, char *buf, size_t cap)
{
    const char *pass = user;

    if (pass == NULL || strlen(pass) >= cap)
        return AMK_EPASSPHRASE;
    memcpy(buf, pass, strlen(pass) + 1);
    return AMK_OK;
}

int
main(int argc, char **argv)
{
    struct amk_key *key = NULL, *loaded = NULL;
    char path[4096], pubpath[4200];
    char *line = NULL, *sha256 = NULL, *md5 = NULL;
    const char *pass = argc > 2 ? argv[2] : NULL;
    int r, status = 1;

    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [PASSPHRASE]\n", argv[0]);
        return 2;
    }
    snprintf(path, sizeof(path), "%s/id_ed25519", argv[1]);
    snprintf(pubpath, sizeof(pubpath), "%s.pub", path);

    if ((r = amk_init()) != AMK_OK ||
        (r = amk_key_create(AMK_KEY_ED25519, 0, &key)) != AMK_OK ||
        (r = amk_key_set_comment(key, "example@amiko")) != AMK_OK ||
        (r = amk_key_save_file(key, path, pass)) != AMK_OK ||
        (r = amk_key_save_public_file(key, pubpath)) != AMK_OK) {
        fprintf(stderr, "writing %s: %s\n", path, amk_strerror(r));
        goto out;
    }
    if ((r = amk_key_load_file(path, passphrase_cb, (void *)pass, &loaded)) != AMK_OK) {
        fprintf(stderr, "loading %s: %s\n", path, amk_strerror(r));
        goto out;
    }
    if (!amk_key_equal_public(key, loaded)) {
        fprintf(stderr, "the key read back differs\n");
        goto out;
    }
    if ((r = amk_key_public_line(loaded, &line)) != AMK_OK ||
        (r = amk_key_fingerprint(loaded, AMK_KEY_FP_SHA256, &sha256)) != AMK_OK ||
        (r = amk_key_fingerprint(loaded, AMK_KEY_FP_MD5, &md5)) != AMK_OK) {
        fprintf(stderr, "formatting: %s\n", amk_strerror(r));
        goto out;
    }
    printf("%s\n", line);
    printf("%u %s %s (%s)\n", amk_key_bits(loaded), sha256, amk_key_comment(loaded),
        amk_key_type_name(loaded));
    printf("%u %s %s (%s)\n", amk_key_bits(loaded), md5, amk_key_comment(loaded),
        amk_key_type_name(loaded));
    status = 0;
out:
    free(line);
    free(sha256);
    free(md5);
    amk_key_free(key);
    amk_key_free(loaded);
    return status;
}
