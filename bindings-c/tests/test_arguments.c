/* Bad arguments never crash; client and per-call options reach the server; several threads share one client. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests.h"

/* Not UTF-8: a lone continuation byte and an overlong encoding. */
static const char BAD_UTF8[] = {'s', 'b', 'x', (char)0x80, (char)0xC0, (char)0xAF, 0};

static void refused(miosa_status s, miosa_error *err, const char *what, const char *mention) {
    if (err && mention) {
        CHECKF(strstr(err->message, mention) != NULL, "%s: the message names `%s`: %s", what, mention, err->message);
    }
    EXPECT_STATUS(s, err, MIOSA_ERR_INVALID_ARGUMENT, what);
}

void test_bad_arguments(const emulator *e) {
    miosa_client *c = client_for(e, e->api_key);
    if (!c) {
        return;
    }
    miosa_error *err = NULL;
    char *out = NULL;
    miosa_status s;

    /* NULL pointers. */
    s = miosa_call(NULL, MIOSA_OP_SANDBOXES_LIST, NULL, NULL, &out, &err);
    refused(s, err, "NULL client", "client");
    s = miosa_call(c, NULL, NULL, NULL, &out, &err);
    refused(s, err, "NULL op", "op");
    s = miosa_call(c, MIOSA_OP_SANDBOXES_LIST, NULL, NULL, NULL, &err);
    refused(s, err, "NULL out_json", "out_json");
    s = miosa_call(c, MIOSA_OP_SANDBOXES_LIST, NULL, NULL, NULL, NULL);
    CHECK(s == MIOSA_ERR_INVALID_ARGUMENT); /* no error struct asked for: the status alone */
    miosa_client *none = NULL;
    s = miosa_client_new(NULL, NULL, &none, &err);
    refused(s, err, "NULL api_key", "api_key");
    s = miosa_client_new(e->api_key, NULL, NULL, &err);
    refused(s, err, "NULL out", "out");
    s = miosa_sandboxes_create(c, NULL, NULL, NULL, &err);
    refused(s, err, "NULL out_id", "out_id");
    s = miosa_exec_run(c, "cmp_fixture", NULL, NULL, NULL, &err);
    refused(s, err, "NULL out for exec", "out");
    miosa_exec_result *run = NULL;
    s = miosa_exec_run(c, "cmp_fixture", NULL, NULL, &run, &err);
    CHECK(run == NULL);
    refused(s, err, "NULL command", "command");
    s = miosa_computer_start(c, NULL, NULL, NULL, &err);
    refused(s, err, "NULL id", "id");
    s = miosa_call_bytes(c, MIOSA_OP_DESKTOP_SCREENSHOT, "[\"cmp_fixture\"]", NULL, NULL, &err);
    refused(s, err, "NULL miosa_bytes", "out");
    s = miosa_call_upload(c, MIOSA_OP_SANDBOX_FILES_WRITE, "[\"sbx_fixture\", \"/a\"]", NULL, NULL, 4, &out, &err);
    refused(s, err, "NULL data with a length", "data");
    s = miosa_pager_next(NULL, &out, &err);
    refused(s, err, "NULL pager", "pager");
    s = miosa_request(c, NULL, "/sandboxes", NULL, &out, &err);
    refused(s, err, "NULL method", "method");
    s = miosa_request(c, "GET", NULL, NULL, &out, &err);
    refused(s, err, "NULL path", "path");
    miosa_pager *pager = (miosa_pager *)&err;
    s = miosa_pager_new(c, NULL, NULL, NULL, &pager, &err);
    CHECK(pager == NULL);
    refused(s, err, "pager with a NULL op", "op");
    miosa_event_stream *stream = (miosa_event_stream *)&err;
    s = miosa_stream_open(NULL, MIOSA_OP_SANDBOX_EVENTS_STREAM, "[\"sbx_fixture\"]", NULL, &stream, &err);
    CHECK(stream == NULL);
    refused(s, err, "stream with a NULL client", "client");
    s = miosa_client_with_options(c, NULL, &none, &err);
    refused(s, err, "NULL options_json", "options_json");

    /* Invalid UTF-8 anywhere. */
    s = miosa_call(c, BAD_UTF8, NULL, NULL, &out, &err);
    refused(s, err, "op not UTF-8", "UTF-8");
    s = miosa_call(c, MIOSA_OP_SANDBOXES_GET, BAD_UTF8, NULL, &out, &err);
    refused(s, err, "args not UTF-8", "args_json");
    s = miosa_call(c, MIOSA_OP_SANDBOXES_LIST, NULL, BAD_UTF8, &out, &err);
    refused(s, err, "params not UTF-8", "params_json");
    s = miosa_client_new(BAD_UTF8, NULL, &none, &err);
    refused(s, err, "api_key not UTF-8", "api_key");
    s = miosa_computer_start(c, BAD_UTF8, NULL, NULL, &err);
    refused(s, err, "id not UTF-8", "id");
    miosa_options opts = MIOSA_OPTIONS_INIT;
    opts.base_url = BAD_UTF8;
    s = miosa_client_new(e->api_key, &opts, &none, &err);
    refused(s, err, "base_url not UTF-8", "base_url");
    miosa_header headers[] = {{"x-ok", "fine"}, {"x-bad", BAD_UTF8}};
    opts.base_url = e->base_url;
    opts.headers = headers;
    opts.headers_len = 2;
    s = miosa_client_new(e->api_key, &opts, &none, &err);
    refused(s, err, "header value not UTF-8", "headers[1].value");
    opts.headers = NULL;
    s = miosa_client_new(e->api_key, &opts, &none, &err);
    refused(s, err, "headers NULL with a length", "headers");
    CHECK(none == NULL);

    /* Broken JSON and JSON of the wrong shape. */
    s = miosa_call(c, MIOSA_OP_SANDBOXES_GET, "[\"sbx_fixture\"", NULL, &out, &err);
    refused(s, err, "unterminated args", "not valid JSON");
    s = miosa_call(c, MIOSA_OP_SANDBOXES_LIST, NULL, "{state: running}", &out, &err);
    refused(s, err, "unquoted keys", "params_json");
    s = miosa_call(c, MIOSA_OP_SANDBOXES_LIST, NULL, "[1, 2]", &out, &err);
    refused(s, err, "params as a list", "JSON object");
    s = miosa_call(c, MIOSA_OP_SANDBOXES_GET, "\"sbx_fixture\"", NULL, &out, &err);
    refused(s, err, "args as a string", "array or object");
    s = miosa_call(c, MIOSA_OP_SANDBOXES_LIST, NULL, "", &out, &err);
    refused(s, err, "empty params", "params_json");
    s = miosa_sandboxes_create(c, "{\"name\": ", &out, NULL, &err);
    refused(s, err, "broken create params", "params_json");
    s = miosa_request(c, "GET", "/sandboxes", "{", &out, &err);
    refused(s, err, "broken request body", "body_json");
    s = miosa_client_with_options(c, "{\"extra_headers\": [1]}", &none, &err);
    refused(s, err, "headers as a list", "`extra_headers`");
    s = miosa_client_with_options(c, "{\"tiemout_ms\": 5}", &none, &err);
    refused(s, err, "unknown request option", "tiemout_ms");

    /* Wrong operation names and argument lists. */
    s = miosa_call(c, "sandboxes.explode", NULL, NULL, &out, &err);
    refused(s, err, "unknown operation", "sandboxes.explode");
    s = miosa_call(c, MIOSA_OP_SANDBOXES_GET, NULL, NULL, &out, &err);
    refused(s, err, "missing positional argument", "takes 1");
    s = miosa_call(c, MIOSA_OP_SANDBOXES_GET, "{\"sandbox\": \"sbx_fixture\"}", NULL, &out, &err);
    refused(s, err, "misnamed argument", "missing argument `id`");
    s = miosa_call(c, MIOSA_OP_SANDBOXES_GET, "{\"id\": \"sbx_fixture\", \"extra\": 1}", NULL, &out, &err);
    refused(s, err, "extra argument", "unknown argument `extra`");
    s = miosa_call(c, MIOSA_OP_SANDBOXES_GET, "[\"\"]", NULL, &out, &err);
    refused(s, err, "empty id", "must not be empty");
    s = miosa_call(c, MIOSA_OP_SANDBOXES_CREATE, NULL, "{\"cpu_count\": \"two\"}", &out, &err);
    refused(s, err, "wrong parameter type", "cpu_count");
    s = miosa_call(c, MIOSA_OP_SANDBOXES_GET, "[\"sbx_fixture\"]", "{\"idempotency_key\": 5}", &out, &err);
    refused(s, err, "bad idempotency key", "idempotency_key");
    s = miosa_request(c, "BREW", "/sandboxes", NULL, &out, &err);
    refused(s, err, "unknown method", "BREW");
    CHECK(out == NULL);
    s = miosa_call_bytes(c, MIOSA_OP_SANDBOXES_GET, "[\"sbx_fixture\"]", NULL, &(miosa_bytes){0}, &err);
    EXPECT_STATUS(s, err, MIOSA_ERR_USAGE, "miosa_call_bytes on a JSON operation");
    s = miosa_call(c, MIOSA_OP_DESKTOP_SCREENSHOT, "[\"cmp_fixture\"]", NULL, &out, &err);
    EXPECT_STATUS(s, err, MIOSA_ERR_USAGE, "miosa_call on a bytes operation");
    s = miosa_call_upload(c, MIOSA_OP_SANDBOXES_GET, "[\"sbx_fixture\"]", NULL, (const uint8_t *)"x", 1, &out, &err);
    EXPECT_STATUS(s, err, MIOSA_ERR_USAGE, "miosa_call_upload on an operation without bytes");
    s = miosa_call_upload(c, MIOSA_OP_SANDBOX_FILES_WRITE, "{\"id\": \"sbx_fixture\", \"path\": \"/a\", \"content\": \"x\"}",
                          NULL, (const uint8_t *)"x", 1, &out, &err);
    refused(s, err, "content both in args and as data", "given both");
    s = miosa_exec_run(c, "cmp_fixture", "true", "{\"command\": \"false\"}", &run, &err);
    refused(s, err, "command given twice", "command");

    /* Freeing NULL is always allowed; status names are total. */
    miosa_client_free(NULL);
    miosa_error_free(NULL);
    miosa_string_free(NULL);
    miosa_bytes_free(NULL);
    miosa_bytes empty = {0};
    miosa_bytes_free(&empty);
    miosa_pager_free(NULL);
    miosa_exec_result_free(NULL);
    CHECK(strcmp(miosa_status_name(MIOSA_OK), "ok") == 0);
    CHECK(strcmp(miosa_status_name(MIOSA_ERR_NOT_FOUND), "not_found") == 0);
    CHECK(strcmp(miosa_status_name(-1), "unknown") == 0);
    CHECK(strcmp(miosa_status_name(999), "unknown") == 0);
    CHECK(miosa_version() != NULL && strlen(miosa_version()) > 0);

    /* After all that, the client still works. */
    jval *v = call_json(c, MIOSA_OP_SANDBOXES_GET, "[\"sbx_fixture\"]", NULL);
    CHECK(v != NULL);
    json_free(v);
    miosa_client_free(c);
}

void test_client_options(const emulator *e) {
    miosa_header headers[] = {{"x-tenant-id", "acme-corp"}};
    miosa_options opts = MIOSA_OPTIONS_INIT;
    opts.base_url = e->base_url;
    opts.headers = headers;
    opts.headers_len = 1;
    opts.connect_timeout_ms = 2000;
    miosa_client *c = NULL, *derived = NULL;
    miosa_error *err = NULL;
    miosa_status s = miosa_client_new(e->api_key, &opts, &c, &err);
    if (!EXPECT_OK(s, err, "client with headers")) {
        return;
    }
    /* Query and body options name fields the API takes, so a strict emulator accepts them too. */
    s = miosa_client_with_options(c, "{\"extra_headers\": {\"x-trace\": \"c-suite\"}, \"extra_query\": {\"wait\": \"false\"}, "
                                     "\"extra_body\": {\"metadata\": {\"team\": \"qa\"}}, \"timeout\": 5000}",
                                  &derived, &err);
    if (EXPECT_OK(s, err, "miosa_client_with_options")) {
        /* The derived handle outlives its parent. */
        miosa_client_free(c);
        c = NULL;
        char *id = NULL;
        s = miosa_sandboxes_create(derived, "{\"name\": \"opts\", \"idempotency_key\": \"c-opts-1\"}", &id, NULL, &err);
        if (EXPECT_OK(s, err, "create through the derived handle")) {
            const jval *req = NULL;
            jval *log = last_request(derived, &req);
            const jval *hdrs = json_get(req, "headers"), *query = json_get(req, "query"), *body = json_get(req, "body");
            const char *tenant = json_get_str(hdrs, "x-tenant-id"), *trace = json_get_str(hdrs, "x-trace");
            const char *idem = json_get_str(hdrs, "idempotency-key");
            CHECKF(tenant && strcmp(tenant, "acme-corp") == 0, "client header sent");
            CHECKF(trace && strcmp(trace, "c-suite") == 0, "per-call header sent");
            CHECKF(idem && strcmp(idem, "c-opts-1") == 0, "idempotency key sent as a header");
            CHECKF(json_get_str(query, "wait") && strcmp(json_get_str(query, "wait"), "false") == 0, "query sent");
            const char *team = json_get_str(json_get(body, "metadata"), "team");
            CHECKF(team && strcmp(team, "qa") == 0, "body field merged");
            CHECKF(json_get_str(body, "name") && strcmp(json_get_str(body, "name"), "opts") == 0, "own field kept");
            json_free(log);

            /* The same idempotency key returns the same sandbox. */
            char *again = NULL;
            s = miosa_sandboxes_create(derived, "{\"name\": \"opts\", \"idempotency_key\": \"c-opts-1\"}", &again, NULL, &err);
            if (EXPECT_OK(s, err, "replayed create")) {
                CHECKF(strcmp(again, id) == 0, "%s vs %s", again, id);
            }
            miosa_string_free(again);
        }
        miosa_string_free(id);
    }
    miosa_client_free(derived);
    miosa_client_free(c);
}

enum { THREADS = 8, CALLS = 12 };

typedef struct {
    const miosa_client *client;
    int index;
    int ok;
    char created[CALLS][64];
} worker;

static void *work(void *arg) {
    worker *w = arg;
    for (int i = 0; i < CALLS; i++) {
        char *out = NULL;
        miosa_error *err = NULL;
        miosa_status s;
        if (i % 3 == 0) {
            char params[128];
            snprintf(params, sizeof params, "{\"name\": \"t%d-%d\"}", w->index, i);
            char *id = NULL;
            s = miosa_sandboxes_create(w->client, params, &id, NULL, &err);
            if (s == MIOSA_OK) {
                snprintf(w->created[i], sizeof w->created[i], "%s", id);
            }
            miosa_string_free(id);
        } else if (i % 3 == 1) {
            s = miosa_call(w->client, MIOSA_OP_SANDBOXES_GET, "[\"sbx_fixture\"]", NULL, &out, &err);
        } else {
            /* Errors on one thread do not disturb the others. */
            s = miosa_call(w->client, MIOSA_OP_SANDBOXES_GET, "[\"sbx_missing\"]", NULL, &out, &err);
            s = s == MIOSA_ERR_NOT_FOUND && err && err->http_status == 404 ? MIOSA_OK : MIOSA_ERR_INTERNAL;
        }
        w->ok += s == MIOSA_OK;
        miosa_string_free(out);
        miosa_error_free(err);
    }
    return NULL;
}

void test_threads(const emulator *e) {
    miosa_client *c = client_for(e, e->api_key);
    if (!c) {
        return;
    }
    pthread_t threads[THREADS];
    static worker workers[THREADS];
    memset(workers, 0, sizeof workers);
    for (int t = 0; t < THREADS; t++) {
        workers[t].client = c;
        workers[t].index = t;
        CHECK(pthread_create(&threads[t], NULL, work, &workers[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        CHECKF(workers[t].ok == CALLS, "thread %d: %d/%d calls as expected", t, workers[t].ok, CALLS);
    }
    /* Every create made a distinct sandbox. */
    int created = 0, distinct = 1;
    for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < CALLS; i++) {
            if (!workers[t].created[i][0]) {
                continue;
            }
            created++;
            for (int u = 0; u <= t; u++) {
                for (int j = 0; j < (u == t ? i : CALLS); j++) {
                    distinct &= strcmp(workers[u].created[j], workers[t].created[i]) != 0;
                }
            }
        }
    }
    CHECKF(created == THREADS * ((CALLS + 2) / 3), "created %d sandboxes", created);
    CHECK(distinct);
    miosa_client_free(c);
}
