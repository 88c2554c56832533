/*
 * Example: the C form of this Paramiko script.
 *
 *     ssh_client = paramiko.SSHClient()
 *     ssh_client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
 *     ssh_client.connect(hostname='example.com', username='username', password='password')
 *     stdin, stdout, stderr = ssh_client.exec_command('ls -l')
 *     print(stdout.read().decode())
 *     ssh_client.close()
 *
 * Usage: paramiko_client [host [user [password [port [command]]]]]
 * Missing arguments come from AMK_HOST, AMK_USER, AMK_PASSWORD, AMK_PORT
 * (defaults: example.com, username, password, 22, "ls -l").
 * Exits with the command's exit status, or 255 when connecting failed.
 */
#include <stdio.h>
#include <stdlib.h>

#include <amiko.h>

static const char *
arg_or_env(int argc, char **argv, int i, const char *env, const char *def)
{
    const char *v = i < argc ? argv[i] : getenv(env);
    return v != NULL ? v : def;
}

int
main(int argc, char **argv)
{
    const char *host = arg_or_env(argc, argv, 1, "AMK_HOST", "example.com");
    const char *user = arg_or_env(argc, argv, 2, "AMK_USER", "username");
    const char *password = arg_or_env(argc, argv, 3, "AMK_PASSWORD", "password");
    int port = atoi(arg_or_env(argc, argv, 4, "AMK_PORT", "22"));
    const char *command = arg_or_env(argc, argv, 5, "AMK_COMMAND", "ls -l");
    struct amk_client *client = NULL;
    struct amk_client_channel *chan = NULL;
    char buf[16384];
    size_t got = 0;
    int r, status = 255;

    /* ssh_client = paramiko.SSHClient() */
    if ((r = amk_client_new(&client)) != AMK_OK) {
        fprintf(stderr, "amk_client_new: %s\n", amk_strerror(r));
        return 255;
    }
    /* ssh_client.set_missing_host_key_policy(paramiko.AutoAddPolicy()) */
    r = amk_client_set_hostkey_policy(client, AMK_HOSTKEY_AUTO_ADD);
    /* ssh_client.connect(hostname=..., username=..., password=...) */
    if (r == AMK_OK)
        r = amk_client_connect(client, host, (uint16_t)port, user, password);
    /* stdin, stdout, stderr = ssh_client.exec_command('ls -l') */
    if (r == AMK_OK)
        r = amk_client_exec(client, command, 0, &chan);
    /* print(stdout.read().decode()) */
    while (r == AMK_OK && (r = amk_client_channel_read(chan, buf, sizeof(buf), &got)) == AMK_OK &&
        got > 0)
        fwrite(buf, 1, got, stdout);
    if (r == AMK_OK)
        r = amk_client_channel_exit_status(chan, &status);
    if (r != AMK_OK) {
        fprintf(stderr, "%s: %s\n", amk_errname(r), amk_client_last_error(client));
        status = 255;
    }
    amk_client_channel_free(chan);
    /* ssh_client.close() */
    if (amk_client_close(client) != AMK_OK)
        fprintf(stderr, "close: %s\n", amk_client_last_error(client));
    amk_client_free(client);
    return status;
}
