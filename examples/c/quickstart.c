/*
 * The seed's first request from C: create a sandbox, wait until it is
 * ready (printing each state it passes), start it, run a command, read
 * its output, destroy it.
 *
 *   cc examples/c/quickstart.c $(pkg-config --cflags --libs miosa) -o quickstart
 *   MIOSA_API_KEY=msk_... [MIOSA_BASE_URL=http://127.0.0.1:PORT/api/v1] ./quickstart
 *
 * (`make -C bindings-c example` builds it against the in-repository library.)
 */
#include <stdio.h>
#include <stdlib.h>

#include <miosa.h>

static int fail(const char *what, miosa_error *err) {
    fprintf(stderr, "%s failed: %s (%s, HTTP %u)\n", what, err ? err->message : "?", err ? err->kind : "?",
            err ? err->http_status : 0);
    miosa_error_free(err);
    return 1;
}

/* Told each new state of the sandbox while it boots ("creating", ..., "running"). */
static void print_state(const char *state, void *user_data) {
    (void)user_data;
    printf("state: %s\n", state);
}

int main(void) {
    const char *key = getenv("MIOSA_API_KEY");
    miosa_options options = MIOSA_OPTIONS_INIT;
    options.base_url = getenv("MIOSA_BASE_URL"); /* NULL: https://api.miosa.ai/api/v1 */

    miosa_client *client = NULL;
    miosa_error *err = NULL;
    if (miosa_client_new(key, &options, &client, &err) != MIOSA_OK) {
        return fail("miosa_client_new", err);
    }

    char *id = NULL;
    if (miosa_sandboxes_create(client, "{\"name\": \"quick-exec\"}", &id, NULL, &err) != MIOSA_OK) {
        miosa_client_free(client);
        return fail("miosa_sandboxes_create", err);
    }
    printf("sandbox %s\n", id);
    char args[256];
    snprintf(args, sizeof args, "[\"%s\"]", id);

    /* A wait that reports the states it sees; "true" once ready, "false" at the deadline. */
    char *ready = NULL;
    if (miosa_call_watching(client, MIOSA_OP_SANDBOXES_WAIT_UNTIL_READY, args, "{\"timeout\": 60}", print_state, NULL,
                            &ready, &err) == MIOSA_OK) {
        printf("ready: %s\n", ready);
        miosa_string_free(ready);
    } else {
        fail("sandboxes.wait_until_ready", err);
    }

    int status = 1;
    miosa_exec_result *run = NULL;
    if (miosa_computer_start(client, id, NULL, NULL, &err) != MIOSA_OK) {
        fail("miosa_computer_start", err);
    } else if (miosa_exec_run(client, id, "python3 -c 'print(1 + 1)'", NULL, &run, &err) != MIOSA_OK) {
        fail("miosa_exec_run", err);
    } else {
        printf("exit %lld, output: %s", (long long)run->exit_code, run->stdout_text);
        status = run->exit_code == 0 ? 0 : 1;
        miosa_exec_result_free(run);
    }

    /* Any other operation goes through miosa_call by name, JSON in and out. */
    char *files = NULL;
    if (miosa_call(client, MIOSA_OP_SANDBOX_FILES_LIST, args, "{\"path\": \"/workspace\"}", &files, &err) == MIOSA_OK) {
        printf("files: %s\n", files);
        miosa_string_free(files);
    } else {
        status = fail("sandbox.files.list", err);
    }

    if (miosa_computer_destroy(client, id, NULL, NULL, &err) != MIOSA_OK) {
        status = fail("miosa_computer_destroy", err);
    } else {
        printf("destroyed %s\n", id);
    }
    miosa_string_free(id);
    miosa_client_free(client);
    return status;
}
