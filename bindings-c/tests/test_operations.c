/*
 * The whole operation table from C: every entry of tests/calls.json is called
 * through the function its result family names (miosa_call, miosa_call_upload
 * for a {"$bytes": ...} argument, miosa_call_bytes, miosa_stream), its answer
 * decoded, and the request the emulator recorded checked against `expect`
 * (method, path, body and query keys). Prints the table total ("241/241")
 * with the seed operations ("169/169") beside it.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests.h"

typedef struct {
    const char *name;
    int result;
    int in_seed;
    int covered;
    int failed;
} op_row;

#define ROW(name, result, in_seed) {name, result, in_seed, 0, 0},
static op_row ROWS[] = {MIOSA_FOR_EACH_OP(ROW)};
#undef ROW
#define N_ROWS (sizeof ROWS / sizeof ROWS[0])

static op_row *find_row(const char *name) {
    for (size_t i = 0; i < N_ROWS; i++) {
        if (strcmp(ROWS[i].name, name) == 0) {
            return &ROWS[i];
        }
    }
    return NULL;
}

/* Splits `args` into JSON text without the {"$bytes": ...} member and that member's text. */
static char *split_bytes(const jval *args, const char **bytes_text, size_t *bytes_len) {
    *bytes_text = NULL;
    *bytes_len = 0;
    if (!args || args->type != J_OBJ) {
        return args ? json_text(args) : NULL;
    }
    size_t cap = args->src_len + 3, n = 0;
    char *out = malloc(cap);
    if (!out) {
        return NULL;
    }
    out[n++] = '{';
    for (size_t i = 0; i < args->n; i++) {
        const jval *v = &args->items[i];
        const char *b = json_get_str(v, "$bytes");
        if (b) {
            *bytes_text = b;
            *bytes_len = json_get(v, "$bytes")->str_len;
            continue;
        }
        /* Keys of calls.json are plain names; the value keeps its source text. */
        n += (size_t)snprintf(out + n, cap - n, "%s\"%s\":%.*s", n > 1 ? "," : "", args->keys[i], (int)v->src_len,
                              v->src);
    }
    out[n++] = '}';
    out[n] = '\0';
    return out;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Compares the recorded body's keys with `want` (a JSON list of sorted names). */
static int same_keys(const jval *body, const jval *want) {
    size_t have = body && body->type == J_OBJ ? body->n : 0;
    if (!want || want->type != J_ARR || want->n != have) {
        return 0;
    }
    const char **keys = calloc(have + 1, sizeof *keys);
    int same = keys != NULL;
    for (size_t i = 0; same && i < have; i++) {
        keys[i] = body->keys[i];
    }
    if (same) {
        qsort(keys, have, sizeof *keys, cmp_str);
    }
    for (size_t i = 0; same && i < have; i++) {
        same = want->items[i].type == J_STR && strcmp(keys[i], want->items[i].str) == 0;
    }
    free(keys);
    return same;
}

static void fail_op(op_row *row, const char *fmt, const char *detail) {
    row->failed = 1;
    char msg[512];
    snprintf(msg, sizeof msg, fmt, detail ? detail : "");
    check_fail(__FILE__, __LINE__, "%s: %s", row->name, msg);
}

static int count_all(const miosa_event *ev, void *user_data) {
    (void)ev;
    ++*(int *)user_data;
    return MIOSA_CONTINUE;
}

static int stop_at_first(const miosa_event *ev, void *user_data) {
    (void)ev;
    ++*(int *)user_data;
    return MIOSA_STOP;
}

/* Calls one entry; 1 when the call succeeded and its result decoded. `stream_mode` is the
 * entry's "stream" hint: "to_end" reads the whole stream, "first_event" stops after one. */
static int run_entry(miosa_client *c, op_row *row, const jval *args, const jval *params, const char *stream_mode) {
    const char *bytes = NULL;
    size_t bytes_len = 0;
    char *args_text = split_bytes(args, &bytes, &bytes_len);
    char *params_text = params ? json_text(params) : NULL;
    miosa_error *err = NULL;
    miosa_status s = MIOSA_OK;
    int ok = 0;
    if (row->result == MIOSA_RESULT_JSON || row->result == MIOSA_RESULT_PAGE) {
        char *out = NULL;
        s = bytes ? miosa_call_upload(c, row->name, args_text, params_text, (const uint8_t *)bytes, bytes_len, &out, &err)
                  : miosa_call(c, row->name, args_text, params_text, &out, &err);
        if (s == MIOSA_OK) {
            jval *v = json_parse(out);
            ok = v != NULL;
            if (!ok) {
                fail_op(row, "the result is not JSON: %s", out);
            } else if (row->result == MIOSA_RESULT_PAGE && (v->type != J_OBJ || !json_get(v, "items"))) {
                ok = 0;
                fail_op(row, "a page has no items: %s", out);
            }
            json_free(v);
            miosa_string_free(out);
        }
    } else if (row->result == MIOSA_RESULT_BYTES) {
        miosa_bytes out = {0};
        s = miosa_call_bytes(c, row->name, args_text, params_text, &out, &err);
        if (s == MIOSA_OK) {
            ok = out.len > 0;
            if (!ok) {
                fail_op(row, "empty download%s", NULL);
            }
            miosa_bytes_free(&out);
        }
    } else if (row->result == MIOSA_RESULT_SOCKET) {
        /* Opening (the upgrade) is the call. */
        miosa_socket *socket = NULL;
        s = miosa_socket_open(c, row->name, args_text, params_text, &socket, &err);
        ok = s == MIOSA_OK && socket != NULL;
        miosa_socket_free(socket);
    } else if (stream_mode && strcmp(stream_mode, "to_end") == 0) {
        int seen = 0;
        s = miosa_stream(c, row->name, args_text, params_text, count_all, &seen, &err);
        ok = s == MIOSA_OK && seen > 0;
        if (s == MIOSA_OK && !ok) {
            fail_op(row, "the stream ended without an event%s", NULL);
        }
    } else if (stream_mode && strcmp(stream_mode, "first_event") == 0) {
        int seen = 0;
        s = miosa_stream(c, row->name, args_text, params_text, stop_at_first, &seen, &err);
        ok = s == MIOSA_OK && seen == 1;
        if (s == MIOSA_OK && !ok) {
            fail_op(row, "expected exactly one event before stopping%s", NULL);
        }
    } else {
        /* No hint: opening proves the stream is served. */
        miosa_event_stream *stream = NULL;
        s = miosa_stream_open(c, row->name, args_text, params_text, &stream, &err);
        ok = s == MIOSA_OK && stream != NULL;
        miosa_stream_free(stream);
    }
    if (s != MIOSA_OK) {
        fail_op(row, "%s", err ? err->message : miosa_status_name((int)s));
        ok = 0;
    }
    miosa_error_free(err);
    free(args_text);
    free(params_text);
    return ok;
}

static void check_expect(miosa_client *c, op_row *row, const jval *expect) {
    const jval *req = NULL;
    jval *log = last_request(c, &req);
    if (!req) {
        fail_op(row, "no request recorded%s", NULL);
        json_free(log);
        return;
    }
    const char *method = json_get_str(req, "method"), *path = json_get_str(req, "path");
    const char *want_method = json_get_str(expect, "method"), *want_path = json_get_str(expect, "path");
    if (!method || !path || !want_method || !want_path || strcmp(method, want_method) != 0 ||
        strcmp(path, want_path) != 0) {
        char detail[512];
        snprintf(detail, sizeof detail, "sent %s %s, expected %s %s", method ? method : "?", path ? path : "?",
                 want_method ? want_method : "?", want_path ? want_path : "?");
        fail_op(row, "%s", detail);
    }
    const char *parts[] = {"body", "query"};
    const char *expected[] = {"body_keys", "query_keys"};
    for (int i = 0; i < 2; i++) {
        const jval *keys = json_get(expect, expected[i]);
        if (keys && !same_keys(json_get(req, parts[i]), keys)) {
            char *sent = json_get(req, parts[i]) ? json_text(json_get(req, parts[i])) : NULL;
            char detail[512];
            snprintf(detail, sizeof detail, "%s keys differ from expect.%s; sent %s", parts[i], expected[i],
                     sent ? sent : "nothing");
            fail_op(row, "%s", detail);
            free(sent);
        }
    }
    json_free(log);
}

void test_every_operation(const emulator *e) {
    const char *path = env_or("MIOSA_CALLS_JSON", "tests/calls.json");
    char *text = read_file(path);
    if (!text) {
        check_fail(__FILE__, __LINE__, "cannot read %s", path);
        return;
    }
    jval *calls = json_parse(text);
    miosa_client *c = client_for(e, e->admin_key);
    CHECKF(calls && calls->type == J_ARR, "%s is a JSON list", path);
    for (size_t i = 0; c && calls && calls->type == J_ARR && i < calls->n; i++) {
        const jval *call = &calls->items[i];
        const char *name = json_get_str(call, "op");
        op_row *row = name ? find_row(name) : NULL;
        if (!row) {
            check_fail(__FILE__, __LINE__, "calls.json entry %zu: `%s` is not in miosa_ops.h", i, name ? name : "?");
            continue;
        }
        row->covered = 1;
        if (!run_entry(c, row, json_get(call, "args"), json_get(call, "params"), json_get_str(call, "stream"))) {
            continue;
        }
        const jval *expect = json_get(call, "expect");
        if (expect && expect->type == J_OBJ) {
            check_expect(c, row, expect);
        }
    }
    int seed = 0, passed = 0, passed_all = 0;
    for (size_t i = 0; i < N_ROWS; i++) {
        if (!ROWS[i].covered) {
            check_fail(__FILE__, __LINE__, "%s: no call in %s", ROWS[i].name, path);
        }
        passed_all += ROWS[i].covered && !ROWS[i].failed;
        if (ROWS[i].in_seed) {
            seed++;
            passed += ROWS[i].covered && !ROWS[i].failed;
        }
    }
    printf("%d/%d (%d/%d seed)\n", passed_all, (int)N_ROWS, passed, seed);
    CHECK(seed == MIOSA_SEED_OP_COUNT && seed == 169);
    CHECK(N_ROWS == MIOSA_OP_COUNT);
    CHECK(passed == seed);
    CHECK(passed_all == (int)N_ROWS);
    miosa_client_free(c);
    json_free(calls);
    free(text);
}
