/*
 * Reliability through the C API (issue #8), the same proof as
 * core/tests/reliability.rs: each fault the emulator injects, with retries on
 * (the call succeeds) and off (the right status, with its attempts), one
 * sandbox created by a retried create, per-call and idle timeouts, a stream
 * cut five times delivering every event once and in order, and a stream
 * closed from its callback (or freed mid-way) closing its connection as the
 * server sees it. Backoff is 10 ms; every test gets a fresh emulator.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests.h"

#define SANDBOX "/sandboxes/sbx_fixture"

static double ms_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void pause_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000L * 1000L};
    nanosleep(&t, NULL);
}

/* A client with retries on: `max_attempts` attempts, 10 ms backoff base, `max_delay_ms` cap. */
static miosa_client *retrying(const emulator *e, uint32_t max_attempts, uint64_t max_delay_ms) {
    miosa_options options = MIOSA_OPTIONS_INIT;
    miosa_client *c = NULL;
    miosa_error *err = NULL;
    options.base_url = e->base_url;
    options.max_retries = max_attempts - 1;
    options.disable_retries = max_attempts <= 1;
    options.retry_base_delay_ms = 10;
    options.retry_max_delay_ms = max_delay_ms;
    miosa_status s = miosa_client_new(e->api_key, &options, &c, &err);
    return EXPECT_OK(s, err, "client with retries") ? c : NULL;
}

/* Sends a control request; the parsed answer (NULL and a failure on error). */
static jval *control(const miosa_client *c, const char *method, const char *path, const char *body) {
    char *out = NULL;
    miosa_error *err = NULL;
    miosa_status s = miosa_request(c, method, path, body, &out, &err);
    if (!EXPECT_OK(s, err, path)) {
        return NULL;
    }
    jval *v = json_parse(out);
    CHECKF(v != NULL, "%s %s answered non-JSON: %s", method, path, out);
    miosa_string_free(out);
    return v;
}

static void fault(const miosa_client *c, const char *fault_json) {
    json_free(control(c, "POST", "/_emulator/faults", fault_json));
}

/* A number in the emulator's stats (`outer`, or `outer.inner`); -1 when absent. */
static double stat(const miosa_client *c, const char *outer, const char *inner) {
    jval *stats = control(c, "GET", "/_emulator/stats", NULL);
    const jval *v = json_get(stats, outer);
    if (v && inner) {
        v = json_get(v, inner);
    }
    double n = v && v->type == J_NUM ? v->num : -1;
    json_free(stats);
    return n;
}

/* Polls a stat until it reads `want` (at most 5 s); its last value. */
static double stat_until(const miosa_client *c, const char *outer, const char *inner, double want) {
    double seen = stat(c, outer, inner);
    for (int i = 0; i < 250 && seen != want; i++) {
        pause_ms(20);
        seen = stat(c, outer, inner);
    }
    return seen;
}

/*
 * The recorded requests to exactly `/api/v1` + `path` (and `method` unless NULL):
 * their count, their statuses in `statuses` (0 for none, e.g. a reset) and the
 * value of `header` of each in `headers` (empty when absent).
 */
enum { LOG_CAP = 16 };
typedef struct {
    size_t n;
    int statuses[LOG_CAP];
    char headers[LOG_CAP][80];
    char faults[LOG_CAP][32];
} request_log;

static request_log log_for(const miosa_client *c, const char *path, const char *method, const char *header) {
    request_log log;
    memset(&log, 0, sizeof log);
    char route[512], full[300];
    snprintf(full, sizeof full, "/api/v1%s", path);
    snprintf(route, sizeof route, "/_emulator/requests?path=%s", full);
    jval *all = control(c, "GET", route, NULL);
    if (!all || all->type != J_ARR) {
        check_fail(__FILE__, __LINE__, "the request log is not a list");
        json_free(all);
        return log;
    }
    for (size_t i = 0; i < all->n; i++) {
        const jval *entry = &all->items[i];
        const char *p = json_get_str(entry, "path");
        const char *m = json_get_str(entry, "method");
        if (!p || strcmp(p, full) != 0 || (method && (!m || strcmp(m, method) != 0))) {
            continue;
        }
        if (log.n < LOG_CAP) {
            const jval *status = json_get(entry, "status");
            log.statuses[log.n] = status && status->type == J_NUM ? (int)status->num : 0;
            const char *value = header ? json_get_str(json_get(entry, "headers"), header) : NULL;
            snprintf(log.headers[log.n], sizeof log.headers[0], "%s", value ? value : "");
            const char *kind = json_get_str(entry, "fault");
            snprintf(log.faults[log.n], sizeof log.faults[0], "%s", kind ? kind : "");
        }
        log.n++;
    }
    json_free(all);
    return log;
}

/* Calls `sandboxes.get sbx_fixture` and checks it answered the fixture. */
static void get_fixture_ok(const miosa_client *c, const char *what) {
    jval *v = call_json(c, MIOSA_OP_SANDBOXES_GET, "[\"sbx_fixture\"]", NULL);
    const char *id = json_get_str(v, "id");
    CHECKF(id && strcmp(id, "sbx_fixture") == 0, "%s: the fixture came back", what);
    json_free(v);
}

/* Calls `sandboxes.get sbx_fixture`, expecting status `want`; returns the error (caller frees). */
static miosa_error *get_fixture_fails(const miosa_client *c, miosa_status want, const char *what) {
    char *out = NULL;
    miosa_error *err = NULL;
    miosa_status s = miosa_call(c, MIOSA_OP_SANDBOXES_GET, "[\"sbx_fixture\"]", NULL, &out, &err);
    CHECKF(s == want, "%s: status %s, expected %s (%s)", what, miosa_status_name((int)s), miosa_status_name((int)want),
           err ? err->message : "-");
    CHECKF(out == NULL, "%s: no result after a failure", what);
    miosa_string_free(out);
    if (!err) {
        check_fail(__FILE__, __LINE__, "%s: no miosa_error", what);
        return NULL;
    }
    CHECKF(err->status == want && strcmp(err->kind, miosa_status_name((int)want)) == 0, "%s: kind %s", what, err->kind);
    return err;
}

/* ------------------------------------------------------------ 429 and 5xx */

void test_rel_rate_limited(const emulator *e) {
    miosa_client *plain = client_for(e, e->api_key);
    miosa_client *c = retrying(e, 3, 5000);
    if (!plain || !c) {
        miosa_client_free(plain);
        miosa_client_free(c);
        return;
    }
    /* Retries on: the client waits for Retry-After: 1, then succeeds. */
    fault(plain, "{\"path\": \"" SANDBOX "\", \"method\": \"GET\", \"status\": 429, \"retry_after\": \"1\","
                 " \"body\": {\"error\": \"slow down\", \"code\": \"RATE_LIMITED\"}}");
    double t0 = ms_now();
    get_fixture_ok(c, "429 then success");
    double waited = ms_now() - t0;
    CHECKF(waited >= 950 && waited < 4000, "waited %.0f ms for Retry-After: 1", waited);
    request_log log = log_for(plain, SANDBOX, "GET", NULL);
    CHECKF(log.n == 2 && log.statuses[0] == 429 && log.statuses[1] == 200, "429 then 200 (%zu requests)", log.n);

    /* Retries off: MIOSA_ERR_RATE_LIMITED carrying the wait, after one attempt. */
    fault(plain, "{\"path\": \"" SANDBOX "\", \"method\": \"GET\", \"status\": 429, \"retry_after\": \"7\"}");
    miosa_error *err = get_fixture_fails(plain, MIOSA_ERR_RATE_LIMITED, "429 without retries");
    if (err) {
        CHECKF(err->http_status == 429, "http_status %u", err->http_status);
        CHECKF(err->retry_after_ms == 7000, "retry_after_ms %lld", (long long)err->retry_after_ms);
        CHECKF(err->attempts == 1, "attempts %u", err->attempts);
    }
    miosa_error_free(err);
    log = log_for(plain, SANDBOX, "GET", NULL);
    CHECKF(log.n == 3, "one more request (%zu in all)", log.n);
    miosa_client_free(c);
    miosa_client_free(plain);
}

void test_rel_server_errors(const emulator *e) {
    miosa_client *plain = client_for(e, e->api_key);
    miosa_client *c = retrying(e, 3, 50);
    if (!plain || !c) {
        miosa_client_free(plain);
        miosa_client_free(c);
        return;
    }
    /* Two 503s, then the third attempt answers. */
    fault(plain, "{\"path\": \"" SANDBOX "\", \"method\": \"GET\", \"status\": 503, \"times\": 2}");
    get_fixture_ok(c, "two 503s then success");
    request_log log = log_for(plain, SANDBOX, "GET", NULL);
    CHECKF(log.n == 3 && log.statuses[0] == 503 && log.statuses[1] == 503 && log.statuses[2] == 200,
           "503, 503, 200 (%zu requests)", log.n);

    /* Five 500s: out of attempts, the error says how many were made. */
    json_free(control(plain, "DELETE", "/_emulator/requests", NULL));
    fault(plain, "{\"path\": \"" SANDBOX "\", \"method\": \"GET\", \"status\": 500, \"times\": 5}");
    miosa_error *err = get_fixture_fails(c, MIOSA_ERR_SERVER, "500 beyond max attempts");
    if (err) {
        CHECKF(err->http_status == 500 && err->attempts == 3, "http_status %u, attempts %u", err->http_status,
               err->attempts);
    }
    miosa_error_free(err);
    log = log_for(plain, SANDBOX, "GET", NULL);
    CHECKF(log.n == 3, "three attempts reached the server (%zu)", log.n);

    /* Retries off: one attempt. */
    err = get_fixture_fails(plain, MIOSA_ERR_SERVER, "500 without retries");
    if (err) {
        CHECKF(err->http_status == 500 && err->attempts == 1, "http_status %u, attempts %u", err->http_status,
               err->attempts);
    }
    miosa_error_free(err);
    miosa_client_free(c);
    miosa_client_free(plain);
}

void test_rel_payment_never_retried(const emulator *e) {
    miosa_client *plain = client_for(e, e->api_key);
    miosa_client *c = retrying(e, 5, 50);
    if (!plain || !c) {
        miosa_client_free(plain);
        miosa_client_free(c);
        return;
    }
    json_free(control(plain, "PUT", "/_emulator/credits", "{\"balance\": 0}"));
    char *out = NULL;
    miosa_error *err = NULL;
    miosa_status s = miosa_call(c, MIOSA_OP_SANDBOXES_CREATE, NULL, "{\"name\": \"no-credits\"}", &out, &err);
    CHECKF(s == MIOSA_ERR_INSUFFICIENT_CREDITS, "status %s", miosa_status_name((int)s));
    CHECK(out == NULL);
    if (err) {
        CHECKF(err->http_status == 402 && err->attempts == 1, "http_status %u, attempts %u", err->http_status,
               err->attempts);
        CHECK(err->code && strcmp(err->code, "INSUFFICIENT_CREDITS") == 0);
    }
    miosa_error_free(err);
    request_log log = log_for(plain, "/sandboxes", "POST", NULL);
    CHECKF(log.n == 1 && log.statuses[0] == 402, "exactly one request (%zu)", log.n);
    miosa_client_free(c);
    miosa_client_free(plain);
}

/* ------------------------------------------------- a retried create, one sandbox */

void test_rel_create_once(const emulator *e) {
    miosa_client *plain = client_for(e, e->api_key);
    miosa_client *c = retrying(e, 3, 50);
    if (!plain || !c) {
        miosa_client_free(plain);
        miosa_client_free(c);
        return;
    }
    fault(plain, "{\"path\": \"/sandboxes\", \"method\": \"POST\", \"status\": 503, \"times\": 2}");
    char *id = NULL, *json = NULL;
    miosa_error *err = NULL;
    miosa_status s = miosa_sandboxes_create(c, "{\"name\": \"retried\"}", &id, &json, &err);
    if (EXPECT_OK(s, err, "a create hit by two 503s")) {
        jval *v = json_parse(json);
        const char *name = json_get_str(v, "name");
        CHECKF(name && strcmp(name, "retried") == 0, "created: %s", json);
        json_free(v);
    }
    request_log log = log_for(plain, "/sandboxes", "POST", "idempotency-key");
    CHECKF(log.n == 3 && log.statuses[0] == 503 && log.statuses[1] == 503 && log.statuses[2] / 100 == 2,
           "503, 503, 2xx (%zu requests)", log.n);
    CHECKF(strlen(log.headers[0]) > 0, "the create carried an Idempotency-Key");
    for (size_t i = 1; i < log.n && i < LOG_CAP; i++) {
        CHECKF(strcmp(log.headers[i], log.headers[0]) == 0, "one key on every attempt: %s vs %s", log.headers[i],
               log.headers[0]);
    }
    double created = stat(plain, "created", "sandbox");
    CHECKF(created == 1, "exactly one sandbox created (%.0f)", created);
    miosa_string_free(id);
    miosa_string_free(json);

    /* The answer of a create lost mid-body: replayed under the same key, not repeated. */
    json_free(control(plain, "POST", "/_emulator/reset", NULL));
    fault(plain, "{\"path\": \"/sandboxes\", \"method\": \"POST\", \"reset_body\": true}");
    s = miosa_sandboxes_create(c, "{\"name\": \"lost\"}", &id, NULL, &err);
    EXPECT_OK(s, err, "a create whose answer was cut");
    log = log_for(plain, "/sandboxes", "POST", "idempotency-key");
    CHECKF(log.n == 2 && strcmp(log.faults[0], "reset_body") == 0 && strcmp(log.headers[0], log.headers[1]) == 0,
           "two attempts under one key (%zu)", log.n);
    created = stat(plain, "created", "sandbox");
    CHECKF(created == 1, "exactly one sandbox created (%.0f)", created);
    miosa_string_free(id);
    miosa_client_free(c);
    miosa_client_free(plain);
}

/* ------------------------------------------------------------ connection reset */

void test_rel_connection_reset(const emulator *e) {
    miosa_client *plain = client_for(e, e->api_key);
    miosa_client *c = retrying(e, 3, 50);
    if (!plain || !c) {
        miosa_client_free(plain);
        miosa_client_free(c);
        return;
    }
    fault(plain, "{\"path\": \"" SANDBOX "\", \"method\": \"GET\", \"reset\": true}");
    miosa_error *err = get_fixture_fails(plain, MIOSA_ERR_CONNECTION, "reset without retries");
    if (err) {
        CHECKF(err->http_status == 0 && err->attempts == 1, "http_status %u, attempts %u", err->http_status,
               err->attempts);
    }
    miosa_error_free(err);

    fault(plain, "{\"path\": \"" SANDBOX "\", \"method\": \"GET\", \"reset\": true}");
    get_fixture_ok(c, "reset, then success");
    request_log log = log_for(plain, SANDBOX, "GET", NULL);
    CHECKF(log.n == 3 && log.statuses[0] == 0 && log.statuses[1] == 0 && log.statuses[2] == 200,
           "reset, reset, 200 (%zu requests)", log.n);

    /* The same for a body cut mid-way. */
    fault(plain, "{\"path\": \"" SANDBOX "\", \"method\": \"GET\", \"reset_body\": true}");
    err = get_fixture_fails(plain, MIOSA_ERR_CONNECTION, "body cut without retries");
    miosa_error_free(err);
    fault(plain, "{\"path\": \"" SANDBOX "\", \"method\": \"GET\", \"reset_body\": true}");
    get_fixture_ok(c, "body cut, then success");
    miosa_client_free(c);
    miosa_client_free(plain);
}

/* ------------------------------------------------------------------- timeouts */

void test_rel_stall_timeout(const emulator *e) {
    miosa_client *plain = client_for(e, e->api_key);
    miosa_client *c = retrying(e, 3, 50);
    if (!plain || !c) {
        miosa_client_free(plain);
        miosa_client_free(c);
        return;
    }
    fault(plain, "{\"path\": \"" SANDBOX "\", \"method\": \"GET\", \"delay_ms\": 5000, \"times\": 3}");

    /* A per-call timeout (a derived handle). */
    miosa_client *quick = NULL;
    miosa_error *err = NULL;
    miosa_status s = miosa_client_with_options(plain, "{\"timeout\": 150}", &quick, &err);
    if (EXPECT_OK(s, err, "miosa_client_with_options")) {
        double t0 = ms_now();
        err = get_fixture_fails(quick, MIOSA_ERR_TIMEOUT, "a stall beyond the per-call timeout");
        double took = ms_now() - t0;
        CHECKF(took < 1500, "timed out after %.0f ms", took);
        if (err) {
            CHECKF(err->http_status == 0 && err->attempts == 1, "http_status %u, attempts %u", err->http_status,
                   err->attempts);
        }
        miosa_error_free(err);
    }
    miosa_client_free(quick);

    /* The client's receive timeout does the same. */
    miosa_client *short_wait = client_with_timeout(e, e->api_key, 200);
    if (short_wait) {
        double t0 = ms_now();
        miosa_error_free(get_fixture_fails(short_wait, MIOSA_ERR_TIMEOUT, "a stall beyond timeout_ms"));
        CHECKF(ms_now() - t0 < 1500, "timed out after %.0f ms", ms_now() - t0);
        miosa_client_free(short_wait);
    }

    /* Retries on: the stalled attempt is abandoned, the next answers. */
    s = miosa_client_with_options(c, "{\"timeout\": 200}", &quick, &err);
    if (EXPECT_OK(s, err, "retrying client with a per-call timeout")) {
        get_fixture_ok(quick, "a stall, then success");
    }
    miosa_client_free(quick);
    double abandoned = stat_until(plain, "abandoned", NULL, 3);
    CHECKF(abandoned == 3, "the server saw each stalled call go (%.0f)", abandoned);
    miosa_client_free(c);
    miosa_client_free(plain);
}

/* An endless 503 with (almost) endless retries: only operation_timeout_ms ends the call. */
void test_rel_operation_timeout(const emulator *e) {
    miosa_client *plain = client_for(e, e->api_key);
    miosa_options options = MIOSA_OPTIONS_INIT;
    miosa_client *c = NULL;
    miosa_error *err = NULL;
    options.base_url = e->base_url;
    options.max_retries = 100;
    options.retry_base_delay_ms = 20;
    options.retry_max_delay_ms = 40;
    options.operation_timeout_ms = 400;
    miosa_status s = miosa_client_new(e->api_key, &options, &c, &err);
    if (!plain || !EXPECT_OK(s, err, "client with an operation timeout")) {
        miosa_client_free(plain);
        miosa_client_free(c);
        return;
    }
    fault(plain, "{\"path\": \"" SANDBOX "\", \"method\": \"GET\", \"status\": 503, \"times\": 1000}");
    double t0 = ms_now();
    err = get_fixture_fails(c, MIOSA_ERR_TIMEOUT, "an endless 503 beyond the operation timeout");
    double took = ms_now() - t0;
    CHECKF(took >= 380 && took < 1500, "timed out after %.0f ms (limit 400)", took);
    if (err) {
        CHECKF(err->http_status == 0 && err->attempts > 1, "http_status %u, attempts %u", err->http_status,
               err->attempts);
    }
    miosa_error_free(err);
    request_log log = log_for(plain, SANDBOX, "GET", NULL);
    CHECKF(log.n > 1, "several attempts reached the server (%zu)", log.n);
    miosa_client_free(c);
    miosa_client_free(plain);
}

/* -------------------------------------------------------------------- streams */

typedef struct {
    int n;
    int ids[256];
    int mismatched; /* events whose data is not their id */
    int stop_after;
} id_collector;

static int collect_ids(const miosa_event *ev, void *user_data) {
    id_collector *col = user_data;
    int id = ev->id ? atoi(ev->id) : -1;
    if (!ev->id || strcmp(ev->id, ev->data) != 0) {
        col->mismatched++;
    }
    if (col->n < 256) {
        col->ids[col->n] = id;
    }
    col->n++;
    return col->stop_after > 0 && col->n >= col->stop_after ? MIOSA_STOP : MIOSA_CONTINUE;
}

void test_rel_stream_cut_five_times(const emulator *e) {
    miosa_client *c = client_for(e, e->api_key);
    if (!c) {
        return;
    }
    fault(c, "{\"path\": \"/_emulator/stream\", \"cut_after_events\": 7, \"times\": 5}");
    id_collector col;
    memset(&col, 0, sizeof col);
    miosa_error *err = NULL;
    miosa_status s = miosa_stream(c, MIOSA_OP_STREAM_SSE, "[\"/_emulator/stream\"]", "{\"count\": 50, \"retry_ms\": 10}",
                                  collect_ids, &col, &err);
    EXPECT_OK(s, err, "a stream cut five times");
    CHECKF(col.n == 50, "50 events (saw %d)", col.n);
    int in_order = 1;
    for (int i = 0; i < col.n && i < 256; i++) {
        in_order &= col.ids[i] == i + 1;
    }
    CHECKF(in_order, "ids 1..50, once each, in order");
    CHECKF(col.mismatched == 0, "every event's data is its id (%d not)", col.mismatched);
    request_log log = log_for(c, "/_emulator/stream", NULL, "last-event-id");
    static const char *const resumed[] = {"", "7", "14", "21", "28", "35"};
    CHECKF(log.n == 6, "five reconnections (%zu requests)", log.n);
    for (size_t i = 0; i < log.n && i < 6; i++) {
        CHECKF(strcmp(log.headers[i], resumed[i]) == 0, "request %zu: Last-Event-ID '%s', expected '%s'", i,
               log.headers[i], resumed[i]);
        CHECKF(i == 5 || strcmp(log.faults[i], "cut_after_events") == 0, "request %zu was cut", i);
    }

    /* Pulled one at a time, the same. */
    json_free(control(c, "POST", "/_emulator/reset", NULL));
    fault(c, "{\"path\": \"/_emulator/stream\", \"cut_after_events\": 3, \"times\": 5}");
    miosa_event_stream *stream = NULL;
    s = miosa_stream_open(c, MIOSA_OP_STREAM_SSE, "[\"/_emulator/stream\"]", "{\"count\": 20, \"retry_ms\": 10}",
                          &stream, &err);
    if (EXPECT_OK(s, err, "miosa_stream_open")) {
        int want = 1;
        for (;;) {
            const miosa_event *ev = NULL;
            s = miosa_stream_next(stream, &ev, &err);
            if (!EXPECT_OK(s, err, "miosa_stream_next") || !ev) {
                break;
            }
            CHECKF(ev->id && atoi(ev->id) == want, "event %d has id %s", want, ev->id ? ev->id : "NULL");
            want++;
        }
        CHECKF(want == 21, "20 events pulled (%d)", want - 1);
        miosa_stream_free(stream);
    }
    miosa_client_free(c);
}

void test_rel_stream_idle_timeout(const emulator *e) {
    miosa_client *c = client_with_timeout(e, e->api_key, 500);
    if (!c) {
        return;
    }
    fault(c, "{\"path\": \"/_emulator/stream\", \"stall_after_events\": 3, \"delay_ms\": 5000}");
    id_collector col;
    memset(&col, 0, sizeof col);
    miosa_error *err = NULL;
    double t0 = ms_now();
    miosa_status s =
        miosa_stream(c, MIOSA_OP_STREAM_SSE, "[\"/_emulator/stream\"]", "{\"count\": 10}", collect_ids, &col, &err);
    double took = ms_now() - t0;
    EXPECT_STATUS(s, err, MIOSA_ERR_TIMEOUT, "a stalled stream");
    CHECKF(col.n == 3, "the events before the stall were delivered (%d)", col.n);
    CHECKF(took >= 450 && took < 2500, "ended after %.0f ms", took);
    miosa_client_free(c);
}

/* ---------------------------------------------------------------- cancellation */

void test_rel_stream_close_frees_connection(const emulator *e) {
    miosa_client *c = client_for(e, e->api_key);
    if (!c) {
        return;
    }
    /* MIOSA_STOP from the callback: the call returns and the server sees the stream close. */
    id_collector col;
    memset(&col, 0, sizeof col);
    col.stop_after = 10;
    miosa_error *err = NULL;
    miosa_status s = miosa_stream(c, MIOSA_OP_STREAM_SSE, "[\"/_emulator/stream\"]", "{\"count\": 100000000}",
                                  collect_ids, &col, &err);
    EXPECT_OK(s, err, "a stream stopped from its callback");
    CHECKF(col.n == 10 && col.ids[9] == 10, "ten events (%d)", col.n);
    double open = stat_until(c, "streams", "open", 0);
    CHECKF(open == 0, "streams.open back to 0 (%.0f)", open);

    /* A pulled stream freed mid-way. */
    miosa_event_stream *stream = NULL;
    s = miosa_stream_open(c, MIOSA_OP_STREAM_SSE, "[\"/_emulator/stream\"]", "{\"count\": 100000000}", &stream, &err);
    if (EXPECT_OK(s, err, "miosa_stream_open")) {
        const miosa_event *ev = NULL;
        for (int i = 0; i < 5; i++) {
            s = miosa_stream_next(stream, &ev, &err);
            if (!EXPECT_OK(s, err, "miosa_stream_next")) {
                break;
            }
        }
        open = stat(c, "streams", "open");
        CHECKF(open == 1, "the stream is open on the server while read (%.0f)", open);
        miosa_stream_free(stream);
        open = stat_until(c, "streams", "open", 0);
        CHECKF(open == 0, "streams.open back to 0 after miosa_stream_free (%.0f)", open);
    }
    double opened = stat(c, "streams", "opened");
    CHECKF(opened == 2, "two streams were opened (%.0f)", opened);
    miosa_client_free(c);
}
