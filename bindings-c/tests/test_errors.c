/* Every error class, as a C caller sees it: status, kind, HTTP status, code, body, request id. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests.h"

/* GETs a control route and parses the answer. */
static jval *call_json_request(const miosa_client *c, const char *path) {
    char *out = NULL;
    miosa_error *err = NULL;
    miosa_status s = miosa_request(c, "GET", path, NULL, &out, &err);
    if (!EXPECT_OK(s, err, path)) {
        return NULL;
    }
    jval *v = json_parse(out);
    miosa_string_free(out);
    return v;
}

/* Registers an emulator fault (see emulator/README.md). */
static void add_fault(const miosa_client *control, const char *fault_json) {
    char *out = NULL;
    miosa_error *err = NULL;
    miosa_status s = miosa_request(control, "POST", "/_emulator/faults", fault_json, &out, &err);
    EXPECT_OK(s, err, "POST /_emulator/faults");
    miosa_string_free(out);
}

/* How many API requests the emulator has seen. */
static double requests_seen(const miosa_client *c) {
    jval *stats = call_json_request(c, "/_emulator/stats");
    const jval *n = json_get(stats, "requests");
    double seen = n && n->type == J_NUM ? n->num : -1;
    json_free(stats);
    return seen;
}

/* Runs `op` and returns its error (the caller frees it); checks status, kind and HTTP status. */
static miosa_error *expect_failure(const miosa_client *c, const char *op, const char *args, const char *params,
                                   miosa_status want, uint16_t http_status) {
    char *out = (char *)"not cleared";
    miosa_error *err = NULL;
    miosa_status s = miosa_call(c, op, args, params, &out, &err);
    CHECKF(s == want, "%s: status %s, expected %s (%s)", op, miosa_status_name((int)s), miosa_status_name((int)want),
           err ? err->message : "-");
    CHECKF(out == NULL, "%s: *out_json is NULL after a failure", op);
    if (s == MIOSA_OK) {
        miosa_string_free(out);
    }
    if (!err) {
        check_fail(__FILE__, __LINE__, "%s: no miosa_error", op);
        return NULL;
    }
    CHECK(err->status == want);
    CHECKF(strcmp(err->kind, miosa_status_name((int)want)) == 0, "%s: kind %s", op, err->kind);
    CHECKF(err->http_status == http_status, "%s: http_status %u, expected %u", op, err->http_status, http_status);
    CHECK(err->message != NULL && strlen(err->message) > 0);
    CHECK(err->attempts >= 1);
    return err;
}

void test_error_classes(const emulator *e) {
    miosa_client *c = client_for(e, e->api_key);
    miosa_client *admin = client_for(e, e->admin_key);
    if (!c || !admin) {
        miosa_client_free(c);
        miosa_client_free(admin);
        return;
    }
    miosa_error *err;

    /* 401: a well-formed key the server does not know; the key never shows up in the error. */
    miosa_client *stranger = client_for(e, "msk_not_the_right_key_123");
    err = expect_failure(stranger, MIOSA_OP_SANDBOXES_GET, "[\"sbx_fixture\"]", NULL, MIOSA_ERR_AUTHENTICATION, 401);
    if (err) {
        CHECK(strstr(err->message, "not_the_right_key") == NULL);
        CHECK(err->body == NULL || strstr(err->body, "not_the_right_key") == NULL);
        CHECK(err->request_id != NULL);
    }
    miosa_error_free(err);
    miosa_client_free(stranger);

    /* 403: an admin route with a user key. */
    err = expect_failure(c, MIOSA_OP_ADMIN_TENANTS_LIST, NULL, NULL, MIOSA_ERR_PERMISSION_DENIED, 403);
    if (err) {
        CHECK(err->code != NULL && strcmp(err->code, "FORBIDDEN") == 0);
    }
    miosa_error_free(err);

    /* 404 with the server's code, body and request id. */
    err = expect_failure(c, MIOSA_OP_SANDBOXES_GET, "{\"id\": \"sbx_missing\"}", NULL, MIOSA_ERR_NOT_FOUND, 404);
    if (err) {
        CHECK(err->code != NULL);
        CHECK(err->request_id != NULL && strncmp(err->request_id, "req_", 4) == 0);
        jval *body = err->body ? json_parse(err->body) : NULL;
        CHECKF(body != NULL && body->type == J_OBJ, "the body is JSON: %s", err->body ? err->body : "NULL");
        json_free(body);
        CHECK(err->retry_after_ms == -1);
    }
    miosa_error_free(err);

    /* 409: the same environment variable twice. */
    char *out = NULL;
    miosa_status s = miosa_call(c, MIOSA_OP_COMPUTER_ENV_CREATE, "[\"cmp_fixture\"]", "{\"name\": \"TWICE\", \"value\": \"1\"}",
                                &out, &err);
    EXPECT_OK(s, err, "computer.env.create");
    miosa_string_free(out);
    err = expect_failure(c, MIOSA_OP_COMPUTER_ENV_CREATE, "[\"cmp_fixture\"]", "{\"name\": \"TWICE\", \"value\": \"2\"}",
                         MIOSA_ERR_CONFLICT, 409);
    if (err) {
        CHECK(err->code != NULL && strcmp(err->code, "ALREADY_EXISTS") == 0);
    }
    miosa_error_free(err);

    /* 422: the server refuses an empty command. */
    err = expect_failure(c, MIOSA_OP_EXEC_RUN, "[\"cmp_fixture\"]", "{\"command\": \"\"}", MIOSA_ERR_VALIDATION, 422);
    miosa_error_free(err);
    /* A required parameter left out is refused before the network, naming it. */
    err = expect_failure(c, MIOSA_OP_EXEC_RUN, "[\"cmp_fixture\"]", NULL, MIOSA_ERR_INVALID_ARGUMENT, 0);
    if (err) {
        CHECKF(strstr(err->message, "`command` is required") != NULL, "message: %s", err->message);
    }
    miosa_error_free(err);

    /* 429 with Retry-After, then 500 and 418 (another status), all injected. */
    add_fault(c, "{\"path\": \"/sandboxes/sbx_fixture\", \"status\": 429, \"retry_after\": \"2\"}");
    err = expect_failure(c, MIOSA_OP_SANDBOXES_GET, "[\"sbx_fixture\"]", NULL, MIOSA_ERR_RATE_LIMITED, 429);
    if (err) {
        CHECKF(err->retry_after_ms == 2000, "retry_after_ms %lld", (long long)err->retry_after_ms);
    }
    miosa_error_free(err);
    add_fault(c, "{\"path\": \"/sandboxes/sbx_fixture\", \"status\": 500}");
    err = expect_failure(c, MIOSA_OP_SANDBOXES_GET, "[\"sbx_fixture\"]", NULL, MIOSA_ERR_SERVER, 500);
    if (err) {
        CHECK(err->code != NULL && strcmp(err->code, "INJECTED_FAULT") == 0);
    }
    miosa_error_free(err);
    add_fault(c, "{\"path\": \"/sandboxes/sbx_fixture\", \"status\": 418}");
    err = expect_failure(c, MIOSA_OP_SANDBOXES_GET, "[\"sbx_fixture\"]", NULL, MIOSA_ERR_API, 418);
    miosa_error_free(err);

    /* 402: no credits left. */
    s = miosa_request(c, "PUT", "/_emulator/credits", "{\"balance\": 0}", &out, &err);
    EXPECT_OK(s, err, "PUT /_emulator/credits");
    miosa_string_free(out);
    err = expect_failure(c, MIOSA_OP_SANDBOXES_CREATE, NULL, "{\"name\": \"broke\"}", MIOSA_ERR_INSUFFICIENT_CREDITS, 402);
    miosa_error_free(err);

    /* Decode: a 200 whose page is not a page. */
    add_fault(c, "{\"path\": \"/webhooks\", \"status\": 200, \"body\": \"not a page\"}");
    err = expect_failure(c, MIOSA_OP_WEBHOOKS_LIST, NULL, NULL, MIOSA_ERR_DECODE, 0);
    miosa_error_free(err);

    /* Timeout: a slow answer and a 300 ms receive timeout; no HTTP status. */
    miosa_client *impatient = client_with_timeout(e, e->api_key, 300);
    add_fault(c, "{\"path\": \"/sandboxes/sbx_fixture\", \"delay_ms\": 3000}");
    err = expect_failure(impatient, MIOSA_OP_SANDBOXES_GET, "[\"sbx_fixture\"]", NULL, MIOSA_ERR_TIMEOUT, 0);
    miosa_error_free(err);
    miosa_client_free(impatient);

    /* Connection: a reset mid-answer, and a port nobody listens on. */
    add_fault(c, "{\"path\": \"/sandboxes/sbx_fixture\", \"reset\": true}");
    err = expect_failure(c, MIOSA_OP_SANDBOXES_GET, "[\"sbx_fixture\"]", NULL, MIOSA_ERR_CONNECTION, 0);
    miosa_error_free(err);
    miosa_options closed = MIOSA_OPTIONS_INIT;
    closed.base_url = "http://127.0.0.1:1/api/v1";
    closed.disable_retries = true;
    miosa_client *nowhere = NULL;
    s = miosa_client_new(e->api_key, &closed, &nowhere, &err);
    if (EXPECT_OK(s, err, "client for a closed port")) {
        err = expect_failure(nowhere, MIOSA_OP_SANDBOXES_GET, "[\"sbx_fixture\"]", NULL, MIOSA_ERR_CONNECTION, 0);
        miosa_error_free(err);
    }
    miosa_client_free(nowhere);

    /* Refused before the network: a key without `msk_`, and the wrong call for a stream. */
    miosa_client *none = NULL;
    s = miosa_client_new("sk_live_secret_value", NULL, &none, &err);
    CHECK(none == NULL);
    if (err) {
        CHECK(strstr(err->message, "secret_value") == NULL);
        CHECK(err->http_status == 0);
    }
    EXPECT_STATUS(s, err, MIOSA_ERR_INVALID_ARGUMENT, "a key without msk_");
    double sent_before = requests_seen(c);
    err = expect_failure(c, MIOSA_OP_SANDBOX_EVENTS_STREAM, "[\"sbx_fixture\"]", NULL, MIOSA_ERR_USAGE, 0);
    if (err) {
        CHECKF(strstr(err->message, "miosa_stream") != NULL, "the message points at miosa_stream: %s", err->message);
    }
    miosa_error_free(err);
    err = expect_failure(c, MIOSA_OP_SANDBOXES_GET, "[]", NULL, MIOSA_ERR_INVALID_ARGUMENT, 0);
    miosa_error_free(err);
    CHECKF(requests_seen(c) == sent_before, "refused calls never reach the server");

    miosa_client_free(c);
    miosa_client_free(admin);
}

void test_retry_recovers(const emulator *e) {
    miosa_options options = MIOSA_OPTIONS_INIT;
    miosa_client *c = NULL, *plain = client_for(e, e->api_key);
    miosa_error *err = NULL;
    options.base_url = e->base_url;
    options.max_retries = 2;
    options.retry_base_delay_ms = 10;
    options.retry_max_delay_ms = 50;
    miosa_status s = miosa_client_new(e->api_key, &options, &c, &err);
    if (!EXPECT_OK(s, err, "client with retries") || !plain) {
        miosa_client_free(plain);
        return;
    }
    add_fault(plain, "{\"path\": \"/sandboxes/sbx_fixture\", \"status\": 503, \"times\": 2}");
    jval *v = call_json(c, MIOSA_OP_SANDBOXES_GET, "[\"sbx_fixture\"]", NULL);
    CHECK(v && json_get_str(v, "id") && strcmp(json_get_str(v, "id"), "sbx_fixture") == 0);
    json_free(v);

    /* Out of attempts: the error says how many were made. */
    add_fault(plain, "{\"path\": \"/sandboxes/sbx_fixture\", \"status\": 503, \"times\": 5}");
    char *out = NULL;
    s = miosa_call(c, MIOSA_OP_SANDBOXES_GET, "[\"sbx_fixture\"]", NULL, &out, &err);
    CHECK(err != NULL && err->attempts == 3 && err->http_status == 503);
    EXPECT_STATUS(s, err, MIOSA_ERR_SERVER, "503 after three attempts");
    miosa_client_free(c);
    miosa_client_free(plain);
}

/* A vector string that may be null (absent): NULL then. */
static const char *nullable_str(const jval *obj, const char *key) {
    const jval *x = json_get(obj, key);
    return x && x->type == J_STR ? x->str : NULL;
}

/* Checks a refusal against a vector's `expect`; frees `err`. */
static void expect_refusal(miosa_status s, miosa_error *err, const jval *expect, const char *name) {
    const char *kind = json_get_str(expect, "error");
    if (kind && strcmp(kind, "invalid_argument") == 0) {
        const char *parameter = json_get_str(expect, "parameter");
        CHECKF(err && parameter && strstr(err->message, parameter) != NULL, "%s: the message names %s", name,
               parameter ? parameter : "?");
        EXPECT_STATUS(s, err, MIOSA_ERR_INVALID_ARGUMENT, name);
    } else {
        const char *code = json_get_str(expect, "code");
        CHECKF(err && err->code && code && strcmp(err->code, code) == 0, "%s: code %s, got %s", name,
               code ? code : "?", err && err->code ? err->code : "none");
        EXPECT_STATUS(s, err, MIOSA_ERR_WEBHOOK_VERIFICATION, name);
    }
}

/* The vectors' bad input, as far as C's integer clock and unsigned tolerance can say it. */
static void check_webhook_bad_input(const jval *v, const uint8_t *payload, size_t len) {
    const jval *cases = json_get(v, "bad_input");
    CHECK(cases && cases->type == J_ARR && cases->n >= 10);
    size_t ran = 0;
    for (size_t i = 0; cases && i < cases->n; i++) {
        const jval *c = &cases->items[i];
        const char *name = json_get_str(c, "name");
        const jval *now = json_get(c, "now");
        const jval *tolerance = json_get(c, "tolerance");
        if ((now && now->type != J_NUM) || (tolerance && (tolerance->type != J_NUM || tolerance->num < 0))) {
            continue; /* not expressible with int64_t now and uint64_t tolerance */
        }
        miosa_error *err = NULL;
        miosa_status s;
        if (now) {
            uint64_t tol = tolerance ? (uint64_t)tolerance->num : 300;
            s = miosa_webhook_verify_at(payload, len, nullable_str(c, "signature"), nullable_str(c, "secret"),
                                        (int64_t)now->num, tol, &err);
        } else {
            s = miosa_webhook_verify(payload, len, nullable_str(c, "signature"), nullable_str(c, "secret"), &err);
        }
        expect_refusal(s, err, json_get(c, "expect"), name ? name : "bad input");
        ran++;
    }
    CHECKF(ran >= 8, "only %zu bad-input cases ran", ran);
}

/* Header names and values of a vector's header object. */
static size_t header_arrays(const jval *headers, const char **names, const char **values, size_t cap) {
    size_t n = 0;
    for (size_t i = 0; headers && headers->type == J_OBJ && i < headers->n && n < cap; i++, n++) {
        names[n] = headers->keys[i];
        values[n] = headers->items[i].str;
    }
    return n;
}

static void check_webhook_unwrap(const jval *v, const uint8_t *payload, size_t len, const char *secret) {
    const jval *u = json_get(v, "unwrap");
    const jval *valid = u ? json_get(u, "valid_headers") : NULL;
    const jval *refused = u ? json_get(u, "refused") : NULL;
    const char *want = u ? json_get_str(json_get(u, "event"), "event") : NULL;
    CHECK(valid && valid->type == J_ARR && refused && refused->type == J_ARR && want);
    const char *names[8];
    const char *values[8];
    for (size_t i = 0; valid && want && i < valid->n; i++) {
        size_t n = header_arrays(&valid->items[i], names, values, 8);
        char *event = NULL;
        miosa_error *err = NULL;
        miosa_status s = miosa_webhook_unwrap(payload, len, names, values, n, secret, &event, &err);
        if (EXPECT_OK(s, err, "unwrap with valid headers")) {
            jval *got = json_parse(event);
            const jval *type = got ? json_get(got, "event") : NULL;
            CHECKF(type && type->type == J_STR && strcmp(type->str, want) == 0, "event %s", event);
            json_free(got);
        }
        miosa_string_free(event);
    }
    for (size_t i = 0; refused && i < refused->n; i++) {
        const jval *c = &refused->items[i];
        const jval *body = json_get(c, "body");
        size_t n = header_arrays(json_get(c, "headers"), names, values, 8);
        char *event = NULL;
        miosa_error *err = NULL;
        miosa_status s = miosa_webhook_unwrap((const uint8_t *)body->str, body->str_len, names, values, n, secret,
                                              &event, &err);
        CHECK(event == NULL);
        expect_refusal(s, err, json_get(c, "expect"), json_get_str(c, "name"));
    }
    /* No headers at all, and parallel arrays that are NULL with a count. */
    char *event = NULL;
    miosa_error *err = NULL;
    miosa_status s = miosa_webhook_unwrap(payload, len, NULL, NULL, 0, secret, &event, &err);
    CHECK(err && err->code && strcmp(err->code, "missing_signature") == 0);
    EXPECT_STATUS(s, err, MIOSA_ERR_WEBHOOK_VERIFICATION, "unwrap without headers");
    s = miosa_webhook_unwrap(payload, len, NULL, NULL, 2, secret, &event, &err);
    EXPECT_STATUS(s, err, MIOSA_ERR_INVALID_ARGUMENT, "NULL header arrays with a count");
}

void test_webhook_signatures(const emulator *e) {
    (void)e;
    const char *path = env_or("MIOSA_WEBHOOK_VECTORS", "tests/webhooks/signature_vectors.json");
    char *text = read_file(path);
    jval *v = text ? json_parse(text) : NULL;
    if (!v) {
        check_fail(__FILE__, __LINE__, "cannot read %s", path);
        free(text);
        return;
    }
    const char *secret = json_get_str(v, "secret");
    const jval *body = json_get(v, "body");
    const jval *current = json_get(v, "current_scheme");
    const jval *legacy = json_get(v, "legacy_scheme");
    if (!secret || !body || body->type != J_STR || !current || !legacy) {
        check_fail(__FILE__, __LINE__, "unexpected vector layout in %s", path);
        json_free(v);
        free(text);
        return;
    }
    const uint8_t *payload = (const uint8_t *)body->str;
    size_t len = body->str_len;
    miosa_error *err = NULL;

    miosa_status s = miosa_webhook_verify(payload, len, json_get_str(current, "header"), secret, &err);
    EXPECT_OK(s, err, "current scheme");

    s = miosa_webhook_verify(payload, len, json_get_str(v, "wrong_secret_header"), secret, &err);
    CHECK(err && err->code && strcmp(err->code, "invalid_signature") == 0);
    EXPECT_STATUS(s, err, MIOSA_ERR_WEBHOOK_VERIFICATION, "wrong secret");

    s = miosa_webhook_verify(payload, len - 1, json_get_str(current, "header"), secret, &err);
    EXPECT_STATUS(s, err, MIOSA_ERR_WEBHOOK_VERIFICATION, "a changed payload");

    const char *legacy_header = json_get_str(legacy, "header");
    const jval *tolerance = json_get(legacy, "tolerance_seconds");
    const jval *valid_now = json_get(legacy, "valid_when_now_is");
    const jval *old_now = json_get(legacy, "too_old_when_now_is");
    if (legacy_header && tolerance && valid_now && old_now) {
        s = miosa_webhook_verify_at(payload, len, legacy_header, secret, (int64_t)valid_now->num, (uint64_t)tolerance->num,
                                    &err);
        EXPECT_OK(s, err, "legacy scheme in time");
        s = miosa_webhook_verify_at(payload, len, legacy_header, secret, (int64_t)old_now->num, (uint64_t)tolerance->num,
                                    &err);
        CHECK(err && err->code && strcmp(err->code, "timestamp_too_old") == 0);
        EXPECT_STATUS(s, err, MIOSA_ERR_WEBHOOK_VERIFICATION, "legacy scheme too old");
    } else {
        check_fail(__FILE__, __LINE__, "the legacy vector is incomplete");
    }

    const jval *malformed = json_get(v, "malformed_headers");
    CHECK(malformed && malformed->type == J_ARR && malformed->n > 0);
    for (size_t i = 0; malformed && i < malformed->n; i++) {
        s = miosa_webhook_verify(payload, len, malformed->items[i].str, secret, &err);
        CHECKF(err && err->code && strcmp(err->code, "malformed_header") == 0, "header %s", malformed->items[i].str);
        EXPECT_STATUS(s, err, MIOSA_ERR_WEBHOOK_VERIFICATION, "malformed header");
    }

    s = miosa_webhook_verify(NULL, 3, "sha256=00", secret, &err);
    EXPECT_STATUS(s, err, MIOSA_ERR_INVALID_ARGUMENT, "NULL payload with a length");
    check_webhook_bad_input(v, payload, len);
    check_webhook_unwrap(v, payload, len, secret);
    json_free(v);
    free(text);
}
