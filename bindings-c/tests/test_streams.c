/* Server-sent events (push and pull) and pagination. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dirent.h>
#include <unistd.h>

#include "tests.h"

/* Open sockets of this process, from /proc/self/fd. */
static int open_sockets(void) {
    DIR *dir = opendir("/proc/self/fd");
    int n = 0;
    struct dirent *entry;
    while (dir && (entry = readdir(dir)) != NULL) {
        char path[300], target[64];
        snprintf(path, sizeof path, "/proc/self/fd/%s", entry->d_name);
        ssize_t len = readlink(path, target, sizeof target - 1);
        if (len > 0) {
            target[len] = '\0';
            n += strncmp(target, "socket:", 7) == 0;
        }
    }
    if (dir) {
        closedir(dir);
    }
    return n;
}

typedef struct {
    int seen;
    int stop_after;
    int sockets_in_callback;
    char first_event[128];
    char first_data[512];
    size_t data_bytes;
    int odd_data;
} collector;

static int collect(const miosa_event *ev, void *user_data) {
    collector *col = user_data;
    if (col->seen == 0) {
        snprintf(col->first_event, sizeof col->first_event, "%s", ev->event);
        snprintf(col->first_data, sizeof col->first_data, "%s", ev->data);
    }
    col->seen++;
    col->sockets_in_callback = open_sockets();
    col->data_bytes += ev->data_len;
    if (strlen(ev->data) != ev->data_len || strcmp(ev->data, "[DONE]") == 0) {
        col->odd_data = 1;
    }
    return col->stop_after > 0 && col->seen >= col->stop_after ? MIOSA_STOP : MIOSA_CONTINUE;
}

static double seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void test_sse_stop_from_callback(const emulator *e) {
    miosa_client *c = client_for(e, e->api_key);
    if (!c) {
        return;
    }
    /* The fixture's event stream never ends on its own: only the callback can end this call. */
    collector col = {0};
    col.stop_after = 1;
    miosa_error *err = NULL;
    double t0 = seconds();
    miosa_status s = miosa_stream(c, MIOSA_OP_SANDBOX_EVENTS_STREAM, "[\"sbx_fixture\"]", NULL, collect, &col, &err);
    EXPECT_OK(s, err, "miosa_stream");
    CHECKF(col.seen == 1, "stop ends delivery at once (saw %d)", col.seen);
    CHECK(strlen(col.first_event) > 0);
    CHECK(strlen(col.first_data) > 0);
    CHECKF(seconds() - t0 < 10, "stopping does not wait for the stream");
    /* MIOSA_STOP closed the connection: the socket open during the callback is gone (closing is asynchronous). */
    int after = open_sockets();
    for (int i = 0; i < 100 && after >= col.sockets_in_callback; i++) {
        struct timespec pause = {0, 20 * 1000 * 1000};
        nanosleep(&pause, NULL);
        after = open_sockets();
    }
    CHECKF(col.sockets_in_callback > 0 && after < col.sockets_in_callback,
           "the stream's socket is closed after MIOSA_STOP (%d open during the callback, %d after)",
           col.sockets_in_callback, after);

    /* The same through the generic stream_sse with a path, stopping after two events. */
    collector two = {0};
    two.stop_after = 2;
    s = miosa_stream(c, MIOSA_OP_STREAM_SSE, "[\"/sandboxes/sbx_fixture/events\"]", NULL, collect, &two, &err);
    EXPECT_OK(s, err, "stream_sse");
    CHECKF(two.seen == 2, "saw %d", two.seen);
    CHECKF(strcmp(two.first_event, col.first_event) == 0, "same first event: %s vs %s", two.first_event, col.first_event);

    /* The client keeps working after a stopped stream. */
    jval *v = call_json(c, MIOSA_OP_SANDBOXES_GET, "[\"sbx_fixture\"]", NULL);
    CHECK(v != NULL);
    json_free(v);
    miosa_client_free(c);
}

void test_sse_runs_to_the_end(const emulator *e) {
    miosa_client *c = client_for(e, e->api_key);
    if (!c) {
        return;
    }
    collector col = {0};
    miosa_error *err = NULL;
    miosa_status s = miosa_stream(c, MIOSA_OP_COMPLETIONS_STREAM, NULL,
                                  "{\"model\": \"miosa-small\", \"stream\": true, "
                                  "\"messages\": [{\"role\": \"user\", \"content\": \"say hello to C\"}]}",
                                  collect, &col, &err);
    EXPECT_OK(s, err, "completions.stream");
    CHECKF(col.seen >= 2, "several chunks (saw %d)", col.seen);
    CHECK(col.data_bytes > 0);
    CHECKF(!col.odd_data, "data_len matches the text, and the [DONE] sentinel ends the stream unseen");
    jval *chunk = json_parse(col.first_data);
    CHECKF(chunk && chunk->type == J_OBJ, "chunks are JSON: %s", col.first_data);
    json_free(chunk);
    miosa_client_free(c);
}

void test_sse_pull(const emulator *e) {
    miosa_client *c = client_for(e, e->api_key);
    if (!c) {
        return;
    }
    miosa_event_stream *stream = NULL;
    miosa_error *err = NULL;
    miosa_status s = miosa_stream_open(c, MIOSA_OP_SANDBOX_EVENTS_STREAM, "{\"id\": \"sbx_fixture\"}", NULL, &stream, &err);
    if (EXPECT_OK(s, err, "miosa_stream_open")) {
        /* The stream outlives the client that opened it. */
        miosa_client_free(c);
        c = NULL;
        const miosa_event *ev = NULL;
        s = miosa_stream_next(stream, &ev, &err);
        if (EXPECT_OK(s, err, "miosa_stream_next") && ev) {
            CHECK(ev->event != NULL && ev->data != NULL && strlen(ev->data) == ev->data_len);
            CHECK(ev->id != NULL);
            char first_id[64];
            snprintf(first_id, sizeof first_id, "%s", ev->id);
            s = miosa_stream_next(stream, &ev, &err);
            if (EXPECT_OK(s, err, "second miosa_stream_next") && ev) {
                CHECKF(ev->id && strcmp(ev->id, first_id) != 0, "ids advance: %s then %s", first_id, ev->id ? ev->id : "NULL");
            }
        } else {
            CHECK(ev != NULL);
        }
        miosa_stream_free(stream);
    }
    miosa_client_free(c);

    /* A quiet stream closes at once, without waiting for an event. */
    miosa_client *quiet = client_for(e, e->api_key);
    if (quiet) {
        double t0 = seconds();
        s = miosa_stream_open(quiet, MIOSA_OP_SANDBOX_FILES_WATCH, "[\"sbx_fixture\"]", NULL, &stream, &err);
        if (EXPECT_OK(s, err, "open sandbox.files.watch")) {
            miosa_stream_free(stream);
        }
        CHECK(seconds() - t0 < 5);
        miosa_client_free(quiet);
    }
}

void test_sse_errors(const emulator *e) {
    miosa_client *c = client_for(e, e->api_key);
    if (!c) {
        return;
    }
    collector col = {0};
    miosa_error *err = NULL;
    miosa_status s = miosa_stream(c, MIOSA_OP_SANDBOX_EVENTS_STREAM, "[\"sbx_nope\"]", NULL, collect, &col, &err);
    CHECK(err != NULL && err->http_status == 404);
    EXPECT_STATUS(s, err, MIOSA_ERR_NOT_FOUND, "a stream of an unknown sandbox");
    CHECK(col.seen == 0);

    s = miosa_stream(c, MIOSA_OP_SANDBOX_EVENTS_STREAM, "[\"sbx_fixture\"]", NULL, NULL, NULL, &err);
    EXPECT_STATUS(s, err, MIOSA_ERR_INVALID_ARGUMENT, "a NULL callback");
    s = miosa_stream(c, MIOSA_OP_SANDBOXES_GET, "[\"sbx_fixture\"]", NULL, collect, &col, &err);
    EXPECT_STATUS(s, err, MIOSA_ERR_USAGE, "miosa_stream on a JSON operation");

    const miosa_event *ev = (const miosa_event *)&col;
    s = miosa_stream_next(NULL, &ev, &err);
    CHECK(ev == NULL);
    EXPECT_STATUS(s, err, MIOSA_ERR_INVALID_ARGUMENT, "miosa_stream_next(NULL)");
    miosa_stream_free(NULL);
    miosa_client_free(c);
}

/* Reads the `id` of every item of a page into `ids`; returns how many were added. */
static size_t page_ids(const jval *items, char ids[][64], size_t at, size_t cap) {
    size_t added = 0;
    for (size_t i = 0; items && i < items->n && at + added < cap; i++) {
        const char *id = json_get_str(&items->items[i], "id");
        snprintf(ids[at + added], 64, "%s", id ? id : "");
        added++;
    }
    return added;
}

void test_pagination_walk(const emulator *e) {
    miosa_client *c = client_for(e, e->admin_key);
    if (!c) {
        return;
    }
    enum { CAP = 256 };
    static char by_page[CAP][64], by_item[CAP][64];
    size_t n_page = 0, n_item = 0;
    int pages = 0;

    /* Page by page through miosa_call, following next_cursor by hand. */
    char params[256] = "{\"limit\": 2}";
    for (;;) {
        jval *page = call_json(c, MIOSA_OP_AUDIT_LOG_LIST, NULL, params);
        if (!page) {
            break;
        }
        const jval *items = json_get(page, "items");
        CHECK(items && items->type == J_ARR && items->n <= 2);
        n_page += page_ids(items, by_page, n_page, CAP);
        pages++;
        const char *cursor = json_get_str(page, "next_cursor");
        int more = cursor != NULL && items && items->n > 0 && pages < 100;
        if (more) {
            snprintf(params, sizeof params, "{\"limit\": 2, \"cursor\": \"%s\"}", cursor);
        }
        json_free(page);
        if (!more) {
            break;
        }
    }
    CHECKF(pages >= 3, "several pages (%d)", pages);

    /* Item by item through the pager. */
    miosa_pager *pager = NULL;
    miosa_error *err = NULL;
    miosa_status s = miosa_pager_new(c, MIOSA_OP_AUDIT_LOG_LIST, NULL, "{\"limit\": 2}", &pager, &err);
    if (EXPECT_OK(s, err, "miosa_pager_new")) {
        for (;;) {
            char *item = NULL;
            s = miosa_pager_next(pager, &item, &err);
            if (!EXPECT_OK(s, err, "miosa_pager_next") || !item) {
                break;
            }
            jval *v = json_parse(item);
            const char *id = json_get_str(v, "id");
            CHECKF(id != NULL, "items are entries: %s", item);
            if (n_item < CAP) {
                snprintf(by_item[n_item++], 64, "%s", id ? id : "");
            }
            json_free(v);
            miosa_string_free(item);
        }
        /* After the end, the end again. */
        char *item = (char *)"x";
        s = miosa_pager_next(pager, &item, &err);
        CHECK(item == NULL);
        EXPECT_OK(s, err, "miosa_pager_next after the end");
        miosa_pager_free(pager);
    }
    CHECKF(n_item == n_page && n_item > 0, "the pager yields every item once (%zu vs %zu)", n_item, n_page);
    for (size_t i = 0; i < n_item && i < n_page; i++) {
        CHECKF(strcmp(by_item[i], by_page[i]) == 0, "item %zu: %s vs %s", i, by_item[i], by_page[i]);
        for (size_t j = 0; j < i; j++) {
            CHECKF(strcmp(by_item[i], by_item[j]) != 0, "%s appears twice", by_item[i]);
        }
    }

    /* Pagers refuse operations that are not paginated, and report errors. */
    s = miosa_pager_new(c, MIOSA_OP_SANDBOXES_GET, "[\"sbx_fixture\"]", NULL, &pager, &err);
    CHECK(pager == NULL);
    EXPECT_STATUS(s, err, MIOSA_ERR_USAGE, "a pager over sandboxes.get");
    miosa_client *user = client_for(e, e->api_key);
    s = miosa_pager_new(user, MIOSA_OP_AUDIT_LOG_LIST, NULL, NULL, &pager, &err);
    if (EXPECT_OK(s, err, "pager with a user key")) {
        char *item = NULL;
        s = miosa_pager_next(pager, &item, &err);
        CHECK(item == NULL);
        EXPECT_STATUS(s, err, MIOSA_ERR_PERMISSION_DENIED, "the audit log needs the admin key");
        miosa_pager_free(pager);
    }
    miosa_client_free(user);
    miosa_client_free(c);
}

/* A list paged by number (usage.sessions): three pages through
 * miosa_pager_next_page, the same ids as the item walk, and the `cursor`
 * keyword fetching the third page directly. */
void test_page_numbered_walk(const emulator *e) {
    miosa_client *c = client_for(e, e->api_key);
    if (!c) {
        return;
    }
    for (int i = 0; i < 3; i++) {
        char params[64];
        snprintf(params, sizeof params, "{\"name\": \"billed-%d\"}", i);
        jval *sb = call_json(c, MIOSA_OP_SANDBOXES_CREATE, NULL, params);
        CHECK(sb != NULL);
        json_free(sb);
    }
    enum { CAP = 256 };
    static char all[CAP][64], paged[CAP][64];
    size_t n_all = 0, n_paged = 0;
    miosa_pager *pager = NULL;
    miosa_error *err = NULL;
    miosa_status s = miosa_pager_new(c, MIOSA_OP_USAGE_SESSIONS, NULL, NULL, &pager, &err);
    if (!EXPECT_OK(s, err, "miosa_pager_new(usage.sessions)")) {
        miosa_client_free(c);
        return;
    }
    for (char *item = NULL; (s = miosa_pager_next(pager, &item, &err)) == MIOSA_OK && item && n_all < CAP;) {
        jval *v = json_parse(item);
        snprintf(all[n_all++], 64, "%s", json_get_str(v, "id") ? json_get_str(v, "id") : "");
        json_free(v);
        miosa_string_free(item);
        item = NULL;
    }
    EXPECT_OK(s, err, "the item walk");
    miosa_pager_free(pager);
    CHECKF(n_all >= 3, "sessions: %zu", n_all);

    size_t per_page = (n_all + 2) / 3;
    char params[96];
    snprintf(params, sizeof params, "{\"per_page\": %zu}", per_page);
    s = miosa_pager_new(c, MIOSA_OP_USAGE_SESSIONS, NULL, params, &pager, &err);
    int pages = 0;
    char third[CAP][64];
    size_t n_third = 0;
    if (EXPECT_OK(s, err, "miosa_pager_new(per_page)")) {
        for (char *text = NULL; (s = miosa_pager_next_page(pager, &text, &err)) == MIOSA_OK && text && pages < 10;) {
            jval *page = json_parse(text);
            pages++;
            const jval *items = json_get(page, "items");
            CHECK(items && items->type == J_ARR && items->n > 0);
            if (pages == 3) {
                n_third = page_ids(items, third, 0, CAP);
                CHECK(json_get(page, "next_cursor") && json_get(page, "next_cursor")->type == J_NULL);
            }
            n_paged += page_ids(items, paged, n_paged, CAP);
            json_free(page);
            miosa_string_free(text);
            text = NULL;
        }
        EXPECT_OK(s, err, "the page walk");
        char *text = (char *)"x";
        s = miosa_pager_next_page(pager, &text, &err);
        CHECK(text == NULL);
        EXPECT_OK(s, err, "miosa_pager_next_page after the end");
        miosa_pager_free(pager);
    }
    CHECKF(pages == 3, "three pages (%d)", pages);
    CHECKF(n_paged == n_all, "every session once (%zu vs %zu)", n_paged, n_all);
    for (size_t i = 0; i < n_paged && i < n_all; i++) {
        CHECKF(strcmp(paged[i], all[i]) == 0, "session %zu: %s vs %s", i, paged[i], all[i]);
    }

    snprintf(params, sizeof params, "{\"per_page\": %zu, \"cursor\": \"3\"}", per_page);
    jval *page = call_json(c, MIOSA_OP_USAGE_SESSIONS, NULL, params);
    if (page) {
        char direct[CAP][64];
        size_t n_direct = page_ids(json_get(page, "items"), direct, 0, CAP);
        CHECKF(n_direct == n_third && n_direct > 0, "page 3 by cursor: %zu vs %zu", n_direct, n_third);
        for (size_t i = 0; i < n_direct && i < n_third; i++) {
            CHECK(strcmp(direct[i], third[i]) == 0);
        }
        json_free(page);
    }
    miosa_client_free(c);
}
