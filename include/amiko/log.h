/**
 * @file amiko/log.h
 * @brief Log levels and the log callback type.
 *
 * amiko never prints. Objects that log (sessions, clients, servers) take a
 * callback with a user-data pointer; without one, messages are dropped.
 */
#ifndef AMIKO_LOG_H
#define AMIKO_LOG_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Log levels, most severe first. */
enum amk_log_level {
    AMK_LOG_ERROR = 1,
    AMK_LOG_WARN = 2,
    AMK_LOG_INFO = 3,
    AMK_LOG_DEBUG = 4,
    AMK_LOG_TRACE = 5   /**< per-packet detail; never includes secrets */
};

/**
 * A log callback. @p msg is a NUL-terminated line without a trailing
 * newline, valid only during the call. MUST NOT call back into the object
 * that logged.
 */
typedef void (*amk_log_fn)(void *user, enum amk_log_level level, const char *msg);

/** The name of a level ("error", "warn", ...). */
AMK_API const char *amk_log_level_name(enum amk_log_level level);

#ifdef __cplusplus
}
#endif
#endif
