/*
 * The client contract through the C ABI: the shared settings vectors
 * (tests/settings, durations in milliseconds), the environment, retries on by
 * default, and an explicit JSON null on the wire.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests.h"

/* A growable string. */
typedef struct {
    char *text;
    size_t len, cap;
} buf;

static void put(buf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->text = realloc(b->text, b->cap);
    }
    memcpy(b->text + b->len, s, n);
    b->len += n;
    b->text[b->len] = '\0';
}

static int is_duration(const jval *durations, const char *name) {
    for (size_t i = 0; durations && i < durations->n; i++) {
        if (durations->items[i].type == J_STR && strcmp(durations->items[i].str, name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The case's input as C writes it: the same names, durations in milliseconds. */
static char *localise(const jval *input, const jval *durations) {
    buf b = {0};
    put(&b, "{", 1);
    for (size_t i = 0; i < input->n; i++) {
        char key[256];
        snprintf(key, sizeof key, "%s\"%s\": ", i ? ", " : "", input->keys[i]);
        put(&b, key, strlen(key));
        const jval *v = &input->items[i];
        if (v->type == J_NUM && is_duration(durations, input->keys[i])) {
            char num[64];
            snprintf(num, sizeof num, "%.17g", v->num * 1000.0);
            put(&b, num, strlen(num));
        } else {
            put(&b, v->src, v->src_len);
        }
    }
    put(&b, "}", 1);
    return b.text;
}

static int same(const jval *a, const jval *b) {
    if (!a || !b || a->type != b->type) {
        return 0;
    }
    switch (a->type) {
    case J_NULL:
        return 1;
    case J_BOOL:
        return a->boolean == b->boolean;
    case J_NUM:
        return fabs(a->num - b->num) < 1e-9;
    case J_STR:
        return strcmp(a->str, b->str) == 0;
    case J_ARR:
        if (a->n != b->n) {
            return 0;
        }
        for (size_t i = 0; i < a->n; i++) {
            if (!same(&a->items[i], &b->items[i])) {
                return 0;
            }
        }
        return 1;
    case J_OBJ:
        if (a->n != b->n) {
            return 0;
        }
        for (size_t i = 0; i < a->n; i++) {
            if (!same(&a->items[i], json_get(b, a->keys[i]))) {
                return 0;
            }
        }
        return 1;
    }
    return 0;
}

/* Every field of `expected` is in `section` of the handle's settings with the same value. */
static void expect_subset(const miosa_client *c, const char *section, const jval *expected, const char *name) {
    char *out = NULL;
    miosa_error *err = NULL;
    miosa_status s = miosa_client_settings_json(c, &out, &err);
    if (!EXPECT_OK(s, err, "miosa_client_settings_json")) {
        return;
    }
    jval *doc = json_parse(out);
    const jval *actual = json_get(doc, section);
    for (size_t i = 0; i < expected->n; i++) {
        CHECKF(same(&expected->items[i], json_get(actual, expected->keys[i])), "%s: `%s` differs in %s", name,
               expected->keys[i], out);
    }
    json_free(doc);
    miosa_string_free(out);
}

static void expect_refusal(miosa_status s, miosa_error *err, const jval *expected, const char *name) {
    CHECKF(s == MIOSA_ERR_INVALID_ARGUMENT, "%s: status %d", name, (int)s);
    if (!err) {
        check_fail(__FILE__, __LINE__, "%s: no error", name);
        return;
    }
    char param[256];
    snprintf(param, sizeof param, "`%s`", json_get_str(expected, "param"));
    CHECKF(strstr(err->message, param) != NULL, "%s: %s does not name %s", name, err->message, param);
    const jval *includes = json_get(expected, "message_includes");
    for (size_t i = 0; includes && i < includes->n; i++) {
        CHECKF(strstr(err->message, includes->items[i].str) != NULL, "%s: %s", name, err->message);
    }
    const jval *excludes = json_get(expected, "message_excludes");
    for (size_t i = 0; excludes && i < excludes->n; i++) {
        CHECKF(strstr(err->message, excludes->items[i].str) == NULL, "%s: %s", name, err->message);
    }
    miosa_error_free(err);
}

static jval *load(const char *name, char **text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", env_or("MIOSA_SETTINGS_VECTORS", "tests/settings"), name);
    *text = read_file(path);
    jval *doc = *text ? json_parse(*text) : NULL;
    CHECKF(doc != NULL, "cannot read %s", path);
    return doc;
}

void test_settings_vectors(const emulator *e) {
    (void)e;
    unsetenv("MIOSA_API_KEY");
    unsetenv("MIOSA_BASE_URL");
    char *text = NULL;
    jval *doc = load("client.json", &text);
    const jval *cases = json_get(doc, "cases"), *durations = json_get(doc, "durations");
    for (size_t i = 0; cases && i < cases->n; i++) {
        const jval *c = &cases->items[i], *expect = json_get(c, "expect");
        const char *name = json_get_str(c, "name");
        char *settings = localise(json_get(c, "input"), durations);
        miosa_client *client = NULL;
        miosa_error *err = NULL;
        miosa_status s = miosa_client_new_json(settings, &client, &err);
        if (json_get(expect, "settings")) {
            if (EXPECT_OK(s, err, name)) {
                expect_subset(client, "settings", json_get(expect, "settings"), name);
            }
        } else {
            CHECK(client == NULL);
            expect_refusal(s, err, json_get(expect, "error"), name);
        }
        miosa_client_free(client);
        free(settings);
    }
    json_free(doc);
    free(text);
}

void test_call_option_vectors(const emulator *e) {
    (void)e;
    miosa_client *base = NULL;
    miosa_error *err = NULL;
    miosa_status s = miosa_client_new("msk_u_vectors", NULL, &base, &err);
    if (!EXPECT_OK(s, err, "client")) {
        return;
    }
    char *text = NULL;
    jval *doc = load("call_options.json", &text);
    const jval *cases = json_get(doc, "cases"), *durations = json_get(doc, "durations");
    for (size_t i = 0; cases && i < cases->n; i++) {
        const jval *c = &cases->items[i], *expect = json_get(c, "expect");
        const char *name = json_get_str(c, "name");
        char *options = localise(json_get(c, "input"), durations);
        miosa_client *derived = NULL;
        s = miosa_client_with_options(base, options, &derived, &err);
        if (json_get(expect, "options")) {
            if (EXPECT_OK(s, err, name)) {
                expect_subset(derived, "options", json_get(expect, "options"), name);
            }
        } else {
            expect_refusal(s, err, json_get(expect, "error"), name);
        }
        miosa_client_free(derived);
        free(options);
    }
    json_free(doc);
    free(text);
    miosa_client_free(base);
}

void test_settings_from_the_environment(const emulator *e) {
    miosa_client *c = NULL;
    miosa_error *err = NULL;
    unsetenv("MIOSA_API_KEY");
    miosa_status s = miosa_client_new(NULL, NULL, &c, &err);
    CHECK(s == MIOSA_ERR_INVALID_ARGUMENT && err && strstr(err->message, "MIOSA_API_KEY"));
    miosa_error_free(err);
    err = NULL;
    setenv("MIOSA_API_KEY", e->api_key, 1);
    setenv("MIOSA_BASE_URL", e->base_url, 1);
    s = miosa_client_new(NULL, NULL, &c, &err);
    if (EXPECT_OK(s, err, "client from the environment")) {
        jval *sandbox = call_json(c, MIOSA_OP_SANDBOXES_GET, "[\"sbx_fixture\"]", NULL);
        const char *id = json_get_str(sandbox, "id");
        CHECK(id && strcmp(id, "sbx_fixture") == 0);
        json_free(sandbox);
        miosa_client_free(c);
    }
    /* An explicit value wins over the environment. */
    c = NULL;
    s = miosa_client_new_json("{\"base_url\": \"http://127.0.0.1:9/api/v1\"}", &c, &err);
    if (EXPECT_OK(s, err, "explicit base_url")) {
        char *out = NULL;
        s = miosa_client_settings_json(c, &out, &err);
        if (EXPECT_OK(s, err, "settings")) {
            CHECKF(strstr(out, "\"base_url\":\"http://127.0.0.1:9/api/v1\"") != NULL, "%s", out);
            miosa_string_free(out);
        }
        miosa_client_free(c);
    }
    unsetenv("MIOSA_API_KEY");
    unsetenv("MIOSA_BASE_URL");
}

static size_t count_posts(const miosa_client *c) {
    char *out = NULL;
    miosa_error *err = NULL;
    size_t n = 0;
    miosa_status s = miosa_request(c, "GET", "/_emulator/requests?path=/api/v1/sandboxes", NULL, &out, &err);
    if (EXPECT_OK(s, err, "request log")) {
        jval *log = json_parse(out);
        for (size_t i = 0; log && i < log->n; i++) {
            const char *method = json_get_str(&log->items[i], "method");
            n += method && strcmp(method, "POST") == 0;
        }
        json_free(log);
        miosa_string_free(out);
    }
    return n;
}

void test_retries_on_by_default(const emulator *e) {
    miosa_options options = MIOSA_OPTIONS_INIT;
    options.base_url = e->base_url;
    options.retry_base_delay_ms = 10;
    miosa_client *c = NULL;
    miosa_error *err = NULL;
    miosa_status s = miosa_client_new(e->api_key, &options, &c, &err);
    if (!EXPECT_OK(s, err, "default client")) {
        return;
    }
    jval *before = call_json(c, MIOSA_OP_SANDBOXES_LIST, NULL, NULL);
    size_t count = before ? before->n : 0;
    json_free(before);
    char *out = NULL;
    s = miosa_request(c, "POST", "/_emulator/faults", "{\"path\": \"/sandboxes\", \"method\": \"POST\", \"status\": 503, \"times\": 1}",
                      &out, &err);
    if (EXPECT_OK(s, err, "fault")) {
        miosa_string_free(out);
    }
    jval *created = call_json(c, MIOSA_OP_SANDBOXES_CREATE, NULL, "{\"name\": \"absorbed\"}");
    CHECK(created != NULL);
    json_free(created);
    CHECKF(count_posts(c) == 2, "a 503 and one retry");
    jval *after = call_json(c, MIOSA_OP_SANDBOXES_LIST, NULL, NULL);
    CHECKF(after && after->n == count + 1, "exactly one sandbox was created");
    json_free(after);
    miosa_client_free(c);
}

void test_null_reaches_the_wire(const emulator *e) {
    miosa_client *c = client_for(e, e->api_key);
    if (!c) {
        return;
    }
    jval *updated = call_json(c, MIOSA_OP_SANDBOXES_UPDATE, "[\"sbx_fixture\"]", "{\"slug\": null, \"tags\": [\"a\"]}");
    json_free(updated);
    const jval *req = NULL;
    jval *log = last_request(c, &req);
    const jval *body = json_get(req, "body"), *slug = json_get(body, "slug");
    CHECKF(slug && slug->type == J_NULL, "the body carries \"slug\": null");
    json_free(log);
    miosa_client_free(c);
}
