/* see util/log.h and amiko/log.h */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>

#define LOG_LINE_MAX 1024

const char *
amk_log_level_name(enum amk_log_level level)
{
    switch (level) {
    case AMK_LOG_ERROR: return "error";
    case AMK_LOG_WARN: return "warn";
    case AMK_LOG_INFO: return "info";
    case AMK_LOG_DEBUG: return "debug";
    case AMK_LOG_TRACE: return "trace";
    }
    return "?";
}

void
amk_logger_init(struct amk_logger *lg)
{
    lg->fn = NULL;
    lg->user = NULL;
    lg->level = AMK_LOG_INFO;
}

int
amk_log_enabled(const struct amk_logger *lg, enum amk_log_level level)
{
    return lg != NULL && lg->fn != NULL && (int)level <= lg->level;
}

void
amk_log(const struct amk_logger *lg, enum amk_log_level level, const char *fmt, ...)
{
    char line[LOG_LINE_MAX];
    va_list ap;

    if (!amk_log_enabled(lg, level))
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    lg->fn(lg->user, level, line);
}
