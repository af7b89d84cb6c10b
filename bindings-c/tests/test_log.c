/* The log callback: one record per request, naming the route, never the key. */
#include <stdio.h>
#include <string.h>

#include "tests.h"

typedef struct {
    int count;
    int level;
    char line[512];
} seen_log;

static void remember(int level, const char *line, void *user_data) {
    seen_log *seen = user_data;
    seen->count++;
    seen->level = level;
    snprintf(seen->line, sizeof seen->line, "%s", line);
}

void test_log_callback(const emulator *e) {
    miosa_client *c = client_for(e, e->api_key);
    if (!c) {
        return;
    }
    miosa_error *err = NULL;
    seen_log seen = {0};
    miosa_status s = miosa_set_log_callback(MIOSA_LOG_INFO, remember, &seen, &err);
    if (EXPECT_OK(s, err, "miosa_set_log_callback")) {
        char *out = NULL;
        s = miosa_call(c, "sandboxes.list", NULL, NULL, &out, &err);
        EXPECT_OK(s, err, "miosa_call sandboxes.list");
        miosa_string_free(out);
        CHECKF(seen.count == 1, "one record per request, got %d", seen.count);
        CHECK(seen.level == MIOSA_LOG_INFO);
        CHECKF(strstr(seen.line, "GET /sandboxes -> 200") != NULL, "record: %s", seen.line);
        CHECKF(strstr(seen.line, "request_id=req_") != NULL, "record: %s", seen.line);
        CHECKF(strstr(seen.line, e->api_key) == NULL, "the key leaked: %s", seen.line);

        s = miosa_set_log_callback(MIOSA_LOG_INFO, NULL, NULL, &err);
        EXPECT_OK(s, err, "miosa_set_log_callback (remove)");
        s = miosa_call(c, "sandboxes.list", NULL, NULL, &out, &err);
        EXPECT_OK(s, err, "miosa_call after removing");
        miosa_string_free(out);
        CHECKF(seen.count == 1, "no record after removing, got %d", seen.count);
    }
    s = miosa_set_log_callback(7, remember, &seen, &err);
    EXPECT_STATUS(s, err, MIOSA_ERR_INVALID_ARGUMENT, "min_level");
    miosa_client_free(c);
}
