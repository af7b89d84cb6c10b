/* miosa_call_watching: a booting sandbox reports each new state once and ends
 * in "running"; a NULL callback still waits; an operation that is no wait is refused. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests.h"

#define MAX_STATES 32

typedef struct {
    int count;
    char states[MAX_STATES][32];
} seen_states;

static void remember_state(const char *state, void *user_data) {
    seen_states *seen = user_data;
    if (seen->count < MAX_STATES) {
        snprintf(seen->states[seen->count], sizeof seen->states[0], "%s", state);
    }
    seen->count++;
}

static void check_states(const seen_states *seen, const char *first, const char *last) {
    CHECKF(seen->count >= 2 && seen->count <= MAX_STATES, "states seen: %d", seen->count);
    if (seen->count < 2 || seen->count > MAX_STATES) {
        return;
    }
    if (first) {
        CHECKF(strcmp(seen->states[0], first) == 0, "first state: %s", seen->states[0]);
    }
    CHECKF(strcmp(seen->states[seen->count - 1], last) == 0, "last state: %s", seen->states[seen->count - 1]);
    for (int i = 1; i < seen->count; i++) {
        CHECKF(strcmp(seen->states[i - 1], seen->states[i]) != 0, "state %s reported twice in a row", seen->states[i]);
    }
}

/* Creates a resource with `create_op` and returns its id (caller frees), or NULL. */
static char *create(const miosa_client *c, const char *create_op) {
    jval *made = call_json(c, create_op, NULL, "{\"name\": \"watched\"}");
    if (!made) {
        return NULL;
    }
    const char *id = json_get_str(made, "id");
    char *copy = id ? strdup(id) : NULL;
    json_free(made);
    CHECK(copy != NULL);
    return copy;
}

static void wait_watching(const miosa_client *c, const char *op, const char *id, seen_states *seen) {
    char args[128];
    snprintf(args, sizeof args, "[\"%s\"]", id);
    miosa_error *err = NULL;
    char *out = NULL;
    miosa_status s = miosa_call_watching(c, op, args, "{\"timeout\": 10}", seen ? remember_state : NULL, seen, &out, &err);
    if (EXPECT_OK(s, err, op)) {
        CHECKF(out && strcmp(out, "true") == 0, "%s answered %s", op, out ? out : "NULL");
    }
    miosa_string_free(out);
}

void test_wait_states(const emulator *e) {
    miosa_client *c = client_for(e, e->api_key);
    if (!c) {
        return;
    }
    char *sandbox = create(c, MIOSA_OP_SANDBOXES_CREATE);
    if (sandbox) {
        seen_states seen = {0};
        wait_watching(c, MIOSA_OP_SANDBOXES_WAIT_UNTIL_READY, sandbox, &seen);
        check_states(&seen, "creating", "running");
        free(sandbox);
    }
    char *computer = create(c, MIOSA_OP_COMPUTERS_CREATE);
    if (computer) {
        seen_states seen = {0};
        wait_watching(c, MIOSA_OP_COMPUTER_WAIT_UNTIL_RUNNING, computer, &seen);
        check_states(&seen, NULL, "running");
        free(computer);
    }
    char *unwatched = create(c, MIOSA_OP_SANDBOXES_CREATE);
    if (unwatched) {
        wait_watching(c, MIOSA_OP_SANDBOXES_WAIT_UNTIL_READY, unwatched, NULL);
        free(unwatched);
    }

    miosa_error *err = NULL;
    char *out = NULL;
    miosa_status s = miosa_call_watching(c, MIOSA_OP_SANDBOXES_GET, "[\"sbx_1\"]", NULL, remember_state, NULL, &out, &err);
    EXPECT_STATUS(s, err, MIOSA_ERR_USAGE, "miosa_call_watching on an operation that is no wait");
    CHECK(out == NULL);
    miosa_client_free(c);
}
