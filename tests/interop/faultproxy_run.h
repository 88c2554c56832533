/*
 * Running tests/tools/faultproxy in front of a test's server (test_faults.c
 * and test_faults_sftp.c: sshd; test_hostile_client_faults.c: amiko
 * serve): started on a free loopback port with the fault options given,
 * stopped with SIGTERM (SIGKILL after FIXTURE_WAIT_MS).
 * Failures fail the running cmocka test.
 */
#ifndef AMK_TESTS_FAULTPROXY_RUN_H
#define AMK_TESTS_FAULTPROXY_RUN_H

#include <stdint.h>
#include <sys/types.h>

#include "sshd_fixture.h"

struct faultproxy {
    pid_t pid;                  /* -1 when not running */
    uint16_t port;              /* where it listens */
};

/* Starts the faultproxy at @p path in front of the server on loopback port
 * @p target_port (@p fx's directory holds its port file), living at most
 * @p lifetime_s seconds, with the fault arguments @p faults (NULL-terminated). */
void faultproxy_start(struct faultproxy *p, const char *path, const struct sshd_fixture *fx,
    uint16_t target_port, int lifetime_s, const char *const *faults);

/* Stops it (a proxy not running is fine). */
void faultproxy_stop(struct faultproxy *p);

#endif
