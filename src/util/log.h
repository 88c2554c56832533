/* Internal logging: each object owns a logger; nothing is global. */
#ifndef AMK_UTIL_LOG_H
#define AMK_UTIL_LOG_H

#include <amiko/log.h>

struct amk_logger {
    amk_log_fn fn;      /* NULL: messages are dropped */
    void *user;
    int level;          /* messages above this level are dropped */
};

void amk_logger_init(struct amk_logger *lg);

/* Formats and delivers one line when @p lg accepts @p level. */
void amk_log(const struct amk_logger *lg, enum amk_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Whether a message at @p level would be delivered (skip costly formatting). */
int amk_log_enabled(const struct amk_logger *lg, enum amk_log_level level);

#endif
