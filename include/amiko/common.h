/**
 * @file amiko/common.h
 * @brief Export macros, library version and initialisation.
 */
#ifndef AMIKO_COMMON_H
#define AMIKO_COMMON_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(AMIKO_BUILDING)
#define AMK_API __attribute__((visibility("default")))
#else
#define AMK_API
#endif

/** Marks functions whose return code must be checked. */
#define AMK_MUST_CHECK __attribute__((warn_unused_result))

#define AMK_VERSION_MAJOR 0
#define AMK_VERSION_MINOR 1
#define AMK_VERSION_PATCH 0
#define AMK_VERSION_STRING "0.1.0"

/** The version of the library that is running, e.g. "0.1.0". */
AMK_API const char *amk_version(void);

/**
 * Prepares the library (the crypto backend). Optional: every object also
 * initialises what it needs. Safe to call more than once and from several
 * threads. Returns AMK_OK or AMK_ECRYPTO if the crypto backend failed.
 */
AMK_API int amk_init(void);

#ifdef __cplusplus
}
#endif
#endif
