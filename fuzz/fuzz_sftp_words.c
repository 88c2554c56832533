/*
 * Fuzz target for amiko sftp's word splitter (tools/amiko/sftp_words.c):
 * the input is one command line as a batch file or the prompt gives it.
 * Words must stay inside the buffer the caller sizes from the line, come
 * back NUL-terminated and in order, and sftp_literal_word() must only
 * ever shorten a word.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sftp_sh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_ARGS 16

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char line[MAX_LINE], *argv[FUZZ_MAX_ARGS];
    char *words;
    size_t cap;
    int n;

    /* a line as fgets() gives it: no NUL inside, at most MAX_LINE - 1 */
    if (size >= MAX_LINE || memchr(data, '\0', size) != NULL)
        return 0;
    memcpy(line, data, size);
    line[size] = '\0';
    /* exactly what the splitter asks for, so ASan sees any write past it */
    cap = 2 * size + FUZZ_MAX_ARGS + 1;
    if ((words = malloc(cap)) == NULL)
        return 0;
    n = sftp_split_words(line, words, cap, argv, FUZZ_MAX_ARGS);
    if (n != WORDS_OPEN_QUOTE && n != WORDS_TOO_MANY && (n < 0 || n > FUZZ_MAX_ARGS))
        abort();
    /* too small a buffer is refused, never overrun */
    if (size > 0 && sftp_split_words(line, words, cap - 1, argv, FUZZ_MAX_ARGS) != WORDS_TOO_MANY)
        abort();
    for (int i = 0; i < n; i++) {
        size_t len = strlen(argv[i]);
        if (argv[i] < words || argv[i] + len >= words + cap || (i > 0 && argv[i] <= argv[i - 1]))
            abort();
        sftp_literal_word(argv[i]);
        if (strlen(argv[i]) > len)
            abort();
    }
    free(words);
    return 0;
}
