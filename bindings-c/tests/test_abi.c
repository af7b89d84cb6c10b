/*
 * The ABI a C program can rely on across versions, and the forms that keep a
 * program from writing JSON or protocol rules by hand: struct sizes, version
 * macros, argument builders, unknown parameter names, cancellation from
 * another thread, and ticks on a quiet stream.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "tests.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pause_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A refusal with `want` whose message names `needle`. */
static void expect_refusal(miosa_status s, miosa_error *err, miosa_status want, const char *needle, const char *what) {
    CHECKF(s == want, "%s: status %s, want %s", what, miosa_status_name((int)s), miosa_status_name((int)want));
    CHECKF(err && err->message && strstr(err->message, needle), "%s: the message names %s (%s)", what, needle,
           err && err->message ? err->message : "(no error)");
    miosa_error_free(err);
}

static int count_any(const miosa_event *event, void *user_data) {
    (void)event;
    ++*(int *)user_data;
    return MIOSA_STOP;
}

void test_abi_struct_size(const emulator *e) {
    miosa_client *c = NULL;
    miosa_error *err = NULL;

    /* A struct zeroed by hand has no size: refused, and the message says how to initialise it. */
    miosa_options zeroed;
    memset(&zeroed, 0, sizeof zeroed);
    zeroed.base_url = e->base_url;
    miosa_status s = miosa_client_new(e->api_key, &zeroed, &c, &err);
    expect_refusal(s, err, MIOSA_ERR_INVALID_ARGUMENT, "struct_size", "zeroed options");
    CHECK(c == NULL);

    /* A size from another miosa.h (here: a grown struct) is refused, never misread. */
    miosa_options grown = MIOSA_OPTIONS_INIT;
    grown.struct_size = sizeof(miosa_options) + 8;
    s = miosa_client_new(e->api_key, &grown, &c, &err);
    expect_refusal(s, err, MIOSA_ERR_INVALID_ARGUMENT, "miosa_options.struct_size", "grown options");

    miosa_options options = MIOSA_OPTIONS_INIT;
    options.base_url = e->base_url;
    s = miosa_client_new(e->api_key, &options, &c, &err);
    if (EXPECT_OK(s, err, "MIOSA_OPTIONS_INIT")) {
        miosa_stream_options bad = MIOSA_STREAM_OPTIONS_INIT;
        bad.struct_size = 3;
        int events = 0;
        s = miosa_stream_with(c, MIOSA_OP_SANDBOX_FILES_WATCH, "[\"sbx_fixture\"]", NULL, &bad, count_any, &events, &err);
        expect_refusal(s, err, MIOSA_ERR_INVALID_ARGUMENT, "miosa_stream_options.struct_size", "stream options");
        CHECKF(events == 0, "nothing was streamed (%d)", events);
    }
    miosa_client_free(c);
}

void test_abi_version_macros(const emulator *e) {
    (void)e;
    char composed[64];
    snprintf(composed, sizeof composed, "%d.%d.%d", MIOSA_VERSION_MAJOR, MIOSA_VERSION_MINOR, MIOSA_VERSION_PATCH);
    CHECKF(strcmp(composed, MIOSA_VERSION_STRING) == 0, "%s == %s", composed, MIOSA_VERSION_STRING);
    CHECKF(strcmp(miosa_version(), MIOSA_VERSION_STRING) == 0, "the library (%s) is the header's (%s)", miosa_version(),
           MIOSA_VERSION_STRING);
}

void test_args_round_trip(const emulator *e) {
    miosa_client *c = client_for(e, e->api_key);
    if (!c) {
        return;
    }
    /* What snprintf("[\"%s\", \"%s\"]", ...) would break on. */
    const char *path = "/workspace/say \"hi\" \\ back\\slash.txt";
    const char *content = "quote \" backslash \\ brace } done\n";
    miosa_error *err = NULL;
    miosa_args *args = miosa_args_new();
    miosa_status s = miosa_args_set_str(args, "id", "sbx_fixture", &err);
    s = s ? s : miosa_args_set_str(args, "path", path, &err);
    s = s ? s : miosa_args_set_str(args, "content", content, &err);
    char *out = NULL;
    if (EXPECT_OK(s, err, "miosa_args_set_str")) {
        s = miosa_call(c, MIOSA_OP_SANDBOX_FILES_WRITE, miosa_args_json(args), NULL, &out, &err);
        if (EXPECT_OK(s, err, "write through the builder")) {
            miosa_string_free(out);
        }
    }
    miosa_args_free(args);

    /* Positional form, built as an array, reads the same file back. */
    miosa_args *pos = miosa_args_new_array();
    miosa_args_set_str(pos, NULL, "sbx_fixture", NULL);
    miosa_args_set_str(pos, NULL, path, NULL);
    miosa_bytes read = {NULL, 0};
    s = miosa_call_bytes(c, MIOSA_OP_SANDBOX_FILES_READ, miosa_args_json(pos), NULL, &read, &err);
    if (EXPECT_OK(s, err, "read back")) {
        CHECKF(read.len == strlen(content) && memcmp(read.data, content, read.len) == 0, "the content round-trips (%zu bytes)",
               read.len);
    }
    miosa_bytes_free(&read);
    miosa_args_free(pos);

    /* Nested values: the listing of the directory, with parameters from a builder, names the file. */
    miosa_args *params = miosa_args_new();
    miosa_args_set_str(params, "path", "/workspace", NULL);
    miosa_args_set_int(params, "depth", 1, NULL);
    jval *listing = call_json(c, MIOSA_OP_SANDBOX_FILES_LIST, "[\"sbx_fixture\"]", miosa_args_json(params));
    int found = 0;
    for (size_t i = 0; listing && listing->type == J_ARR && i < listing->n; i++) {
        const char *name = json_get_str(&listing->items[i], "name");
        const char *p = json_get_str(&listing->items[i], "path");
        found |= (name && strcmp(name, "say \"hi\" \\ back\\slash.txt") == 0) || (p && strcmp(p, path) == 0);
    }
    CHECKF(found, "the listing has the file with its quotes and backslashes");
    json_free(listing);
    miosa_args_free(params);
    miosa_client_free(c);
}

void test_unknown_parameter_refused(const emulator *e) {
    miosa_client *c = client_for(e, e->api_key);
    if (!c) {
        return;
    }
    miosa_error *err = NULL;
    char *out = NULL;
    miosa_args *params = miosa_args_new();
    miosa_args_set_str(params, "pth", "/workspace", NULL);
    miosa_status s = miosa_call(c, MIOSA_OP_SANDBOX_FILES_LIST, "[\"sbx_fixture\"]", miosa_args_json(params), &out, &err);
    CHECK(out == NULL);
    CHECKF(err && strstr(err->message, "did you mean `path`"), "a hint (%s)", err ? err->message : "");
    expect_refusal(s, err, MIOSA_ERR_INVALID_ARGUMENT, "`pth`", "misspelt pth");
    miosa_args_free(params);

    /* The same on streams, pagers and the typed quickstart functions: one check in the core. */
    s = miosa_stream(c, MIOSA_OP_SANDBOX_FILES_WATCH, "[\"sbx_fixture\"]", "{\"recursiv\": true}", NULL, NULL, &err);
    CHECKF(s == MIOSA_ERR_INVALID_ARGUMENT, "stream: %s", miosa_status_name((int)s));
    miosa_error_free(err);
    miosa_pager *pager = NULL;
    s = miosa_pager_new(c, MIOSA_OP_WEBHOOKS_LIST, NULL, "{\"limt\": 2}", &pager, &err);
    expect_refusal(s, err, MIOSA_ERR_INVALID_ARGUMENT, "`limt`", "pager");
    char *id = NULL;
    s = miosa_sandboxes_create(c, "{\"nmae\": \"typo\"}", &id, NULL, &err);
    expect_refusal(s, err, MIOSA_ERR_INVALID_ARGUMENT, "`nmae`", "sandboxes_create");

    /* A deliberate extra goes through `extra` and reaches the wire as given. */
    miosa_args *extra = miosa_args_new();
    miosa_args_set_str(extra, "trace", "c-suite", NULL);
    miosa_args *with_extra = miosa_args_new();
    miosa_args_set_str(with_extra, "path", "/workspace", NULL);
    miosa_args_set_args(with_extra, "extra", extra, NULL);
    s = miosa_call(c, MIOSA_OP_SANDBOX_FILES_LIST, "[\"sbx_fixture\"]", miosa_args_json(with_extra), &out, &err);
    CHECKF(s != MIOSA_ERR_INVALID_ARGUMENT, "extra is not refused locally (%s)", err ? err->message : "ok");
    miosa_error_free(err);
    miosa_string_free(out);
    const jval *req = NULL;
    jval *log = last_request(c, &req);
    const char *trace = json_get_str(json_get(req, "query"), "trace");
    CHECKF(trace && strcmp(trace, "c-suite") == 0, "the extra field was sent (%s)", trace ? trace : "not in the query");
    json_free(log);

    /* A name given twice (as a parameter and in extra) is refused. */
    miosa_args_set_str(extra, "path", "/x", NULL);
    miosa_args_set_args(with_extra, "extra", extra, NULL);
    s = miosa_call(c, MIOSA_OP_SANDBOX_FILES_LIST, "[\"sbx_fixture\"]", miosa_args_json(with_extra), &out, &err);
    expect_refusal(s, err, MIOSA_ERR_INVALID_ARGUMENT, "`path`", "path twice");
    miosa_args_free(extra);
    miosa_args_free(with_extra);
    miosa_client_free(c);
}

/* ---------------------------------------------------------------- cancellation and ticks */

typedef struct {
    const miosa_client *client;
    const miosa_cancel_token *token;
    miosa_status status;
    int events;
    double ended_at;
} blocked;

static void *blocking_get(void *arg) {
    blocked *b = arg;
    char *out = NULL;
    miosa_error *err = NULL;
    b->status = miosa_call(b->client, MIOSA_OP_SANDBOXES_GET, "[\"sbx_fixture\"]", NULL, &out, &err);
    b->ended_at = now_s();
    miosa_string_free(out);
    miosa_error_free(err);
    return NULL;
}

static int count_events(const miosa_event *event, void *user_data) {
    blocked *b = user_data;
    if (event) {
        b->events++;
    }
    return MIOSA_CONTINUE;
}

static void *quiet_watch(void *arg) {
    blocked *b = arg;
    miosa_stream_options options = MIOSA_STREAM_OPTIONS_INIT;
    options.cancel = b->token;
    miosa_error *err = NULL;
    b->status = miosa_stream_with(b->client, MIOSA_OP_SANDBOX_FILES_WATCH, "[\"sbx_fixture\"]",
                                  "{\"path\": \"/workspace\"}", &options, count_events, b, &err);
    b->ended_at = now_s();
    miosa_error_free(err);
    return NULL;
}

void test_cancel_from_another_thread(const emulator *e) {
    miosa_client *c = client_for(e, e->api_key);
    if (!c) {
        return;
    }
    /* The emulator holds the call for 8 s. */
    char *out = NULL;
    miosa_error *err = NULL;
    miosa_status s = miosa_request(c, "POST", "/_emulator/faults",
                                   "{\"path\": \"/sandboxes/sbx_fixture\", \"method\": \"GET\", \"delay_ms\": 8000}", &out, &err);
    if (EXPECT_OK(s, err, "fault")) {
        miosa_string_free(out);
    }
    miosa_cancel_token *token = miosa_cancel_token_new();
    miosa_client *cancellable = NULL;
    s = miosa_client_with_cancel(c, token, &cancellable, &err);
    if (EXPECT_OK(s, err, "miosa_client_with_cancel")) {
        blocked call = {.client = cancellable};
        blocked watch = {.client = c, .token = token};
        pthread_t caller, watcher;
        pthread_create(&caller, NULL, blocking_get, &call);
        pthread_create(&watcher, NULL, quiet_watch, &watch);
        pause_ms(500);
        double cancelled_at = now_s();
        miosa_cancel_token_cancel(token);
        pthread_join(caller, NULL);
        pthread_join(watcher, NULL);
        printf("  cancel: blocked call returned after %.3f s, quiet stream after %.3f s\n", call.ended_at - cancelled_at,
               watch.ended_at - cancelled_at);
        CHECKF(call.status == MIOSA_ERR_CANCELLED, "the call is cancelled (%s)", miosa_status_name((int)call.status));
        CHECKF(watch.status == MIOSA_ERR_CANCELLED, "the stream is cancelled (%s)", miosa_status_name((int)watch.status));
        CHECKF(watch.events == 0, "the watch was quiet (%d events)", watch.events);
        /* Status is what is asserted; this bound only catches a hang. */
        CHECKF(call.ended_at - cancelled_at < 10 && watch.ended_at - cancelled_at < 10, "both returned");
    }
    miosa_client_free(cancellable);
    miosa_cancel_token_free(token);
    miosa_client_free(c);
}

typedef struct {
    double started;
    double stopped_after;
    int ticks;
    int events;
} budget;

/* Stops the stream from a tick once two seconds have passed. */
static int within_budget(const miosa_event *event, void *user_data) {
    budget *b = user_data;
    if (event) {
        b->events++;
        return MIOSA_CONTINUE;
    }
    b->ticks++;
    double elapsed = now_s() - b->started;
    if (elapsed >= 2.0) {
        b->stopped_after = elapsed;
        return MIOSA_STOP;
    }
    return MIOSA_CONTINUE;
}

void test_quiet_stream_ticks(const emulator *e) {
    miosa_client *c = client_for(e, e->api_key);
    if (!c) {
        return;
    }
    budget b = {.started = now_s()};
    miosa_stream_options options = MIOSA_STREAM_OPTIONS_INIT;
    options.tick_ms = 250;
    miosa_error *err = NULL;
    miosa_status s = miosa_stream_with(c, MIOSA_OP_SANDBOX_FILES_WATCH, "[\"sbx_fixture\"]", "{\"path\": \"/workspace\"}",
                                       &options, within_budget, &b, &err);
    double total = now_s() - b.started;
    printf("  quiet watch: %d ticks, %d events, stopped from a tick after %.3f s, returned after %.3f s\n", b.ticks,
           b.events, b.stopped_after, total);
    EXPECT_OK(s, err, "miosa_stream_with");
    CHECKF(b.ticks >= 4, "ticks reached the callback (%d)", b.ticks);
    CHECKF(b.stopped_after >= 2.0, "MIOSA_STOP from a tick ended the stream");
    CHECKF(total < 10, "returned (%.1f s)", total);

    /* With the live fixture, events still arrive between ticks. */
    budget live = {.started = now_s()};
    s = miosa_stream_with(c, MIOSA_OP_SANDBOX_FILES_WATCH, "[\"sbx_fixture_live\"]", NULL, &options, within_budget, &live,
                          &err);
    EXPECT_OK(s, err, "live watch");
    CHECKF(live.events > 0, "events reach the callback (%d events, %d ticks)", live.events, live.ticks);
    miosa_client_free(c);
}
