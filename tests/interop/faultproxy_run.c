/* Running tests/tools/faultproxy for a test; see faultproxy_run.h. */
#include "test_helper.h"

#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "faultproxy_run.h"
#include "io/wait.h"

void
faultproxy_stop(struct faultproxy *p)
{
    int status;

    if (p->pid > 0) {
        kill(p->pid, SIGTERM);
        int64_t deadline = amk_io_deadline(FIXTURE_WAIT_MS);
        while (waitpid(p->pid, &status, WNOHANG) == 0) {
            if (amk_io_remaining_ms(deadline) == 0) {
                kill(p->pid, SIGKILL);
                waitpid(p->pid, &status, 0);
                break;
            }
            usleep(10000);
        }
    }
    p->pid = -1;
}

void
faultproxy_start(struct faultproxy *p, const char *path, const struct sshd_fixture *fx,
    uint16_t target_port, int lifetime_s, const char *const *faults)
{
    char port_file[FIXTURE_PATH_MAX], listen_arg[] = "127.0.0.1:0", target[64], lifetime[16];
    const char *argv[32];
    int n = 0;
    int64_t deadline = amk_io_deadline(FIXTURE_WAIT_MS);
    FILE *pf = NULL;
    unsigned port = 0;

    sshd_fixture_path(fx, "proxy.port", port_file, sizeof(port_file));
    unlink(port_file);
    snprintf(target, sizeof(target), "127.0.0.1:%u", (unsigned)target_port);
    snprintf(lifetime, sizeof(lifetime), "%d", lifetime_s);
    argv[n++] = path;
    argv[n++] = "--listen";
    argv[n++] = listen_arg;
    argv[n++] = "--target";
    argv[n++] = target;
    argv[n++] = "--port-file";
    argv[n++] = port_file;
    argv[n++] = "--lifetime";
    argv[n++] = lifetime;
    for (size_t i = 0; faults[i] != NULL && n < 30; i++)
        argv[n++] = faults[i];
    argv[n] = NULL;
    p->pid = fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execv(path, (char *const *)argv);
        _exit(127);
    }
    while ((pf = fopen(port_file, "r")) == NULL) {
        assert_true(amk_io_remaining_ms(deadline) > 0);
        usleep(10000);
    }
    assert_int_equal(fscanf(pf, "%u", &port), 1);
    fclose(pf);
    assert_true(port > 0 && port < 65536);
    p->port = (uint16_t)port;
}
