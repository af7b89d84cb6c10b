/*
 * Hostile servers: small misbehaving HTTP servers on loopback (a thread per
 * connection), each bounded in bytes and seconds, and the status every case
 * ends with; plus cancellation and closing from another thread.
 */
#define _POSIX_C_SOURCE 200809L
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "tests.h"

/* Upper bound on what any hostile server writes, whatever the client does. */
#define MAX_SERVED ((size_t)128 << 20)
#define SSE_HEAD "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"

typedef void (*handler_fn)(int index, const char *head, int fd);

typedef struct {
    int listener;
    int port;
    handler_fn handler;
    int connections;
    char heads[8][2048];
    pthread_mutex_t lock;
} server;

typedef struct {
    server *srv;
    int fd;
    int index;
} connection;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pause_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static int send_all(int fd, const void *data, size_t len) {
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0) {
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int send_text(int fd, const char *text) {
    return send_all(fd, text, strlen(text));
}

static void write_endlessly(int fd, char fill, size_t chunk_len, const char *line_end) {
    char *chunk = malloc(chunk_len + 8);
    memset(chunk, fill, chunk_len);
    size_t len = chunk_len;
    if (line_end) {
        memcpy(chunk + len, line_end, strlen(line_end));
        len += strlen(line_end);
    }
    for (size_t served = 0; served < MAX_SERVED; served += len) {
        if (send_all(fd, chunk, len) != 0) {
            break;
        }
    }
    free(chunk);
}

/* The value of header `name` (lower case) in `head`, copied into `out`; 0 when absent. */
static int header_value(const char *head, const char *name, char *out, size_t out_len) {
    size_t n = strlen(name);
    /* The first line is the request line; headers follow, one per CRLF. */
    for (const char *line = strstr(head, "\r\n"); line; line = strstr(line, "\r\n")) {
        line += 2;
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ') {
                v++;
            }
            int len = (int)strcspn(v, "\r\n");
            snprintf(out, out_len, "%.*s", len, v);
            return 1;
        }
    }
    return 0;
}

static void *serve_connection(void *arg) {
    connection *conn = arg;
    char head[2048] = {0};
    size_t used = 0;
    while (used < sizeof head - 1 && !strstr(head, "\r\n\r\n")) {
        ssize_t n = recv(conn->fd, head + used, sizeof head - 1 - used, 0);
        if (n <= 0) {
            break;
        }
        used += (size_t)n;
    }
    if (strstr(head, "\r\n\r\n")) {
        pthread_mutex_lock(&conn->srv->lock);
        if (conn->index < 8) {
            snprintf(conn->srv->heads[conn->index], sizeof conn->srv->heads[0], "%s", head);
        }
        pthread_mutex_unlock(&conn->srv->lock);
        conn->srv->handler(conn->index, head, conn->fd);
    }
    close(conn->fd);
    free(conn);
    return NULL;
}

static void *accept_loop(void *arg) {
    server *srv = arg;
    for (;;) {
        int fd = accept(srv->listener, NULL, NULL);
        if (fd < 0) {
            return NULL;
        }
        struct timeval tv = {10, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        connection *conn = malloc(sizeof *conn);
        conn->srv = srv;
        conn->fd = fd;
        pthread_mutex_lock(&srv->lock);
        conn->index = srv->connections++;
        pthread_mutex_unlock(&srv->lock);
        pthread_t t;
        pthread_create(&t, NULL, serve_connection, conn);
        pthread_detach(t);
    }
}

/* Starts a server; the accept thread lives for the rest of the test process. */
static server *server_start(handler_fn handler) {
    server *srv = calloc(1, sizeof *srv);
    pthread_mutex_init(&srv->lock, NULL);
    srv->handler = handler;
    srv->listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(srv->listener, (struct sockaddr *)&addr, sizeof addr);
    listen(srv->listener, 16);
    socklen_t len = sizeof addr;
    getsockname(srv->listener, (struct sockaddr *)&addr, &len);
    srv->port = ntohs(addr.sin_port);
    pthread_t t;
    pthread_create(&t, NULL, accept_loop, srv);
    pthread_detach(t);
    return srv;
}

static int server_connections(server *srv) {
    pthread_mutex_lock(&srv->lock);
    int n = srv->connections;
    pthread_mutex_unlock(&srv->lock);
    return n;
}

static miosa_client *hostile_client(const server *srv, uint64_t timeout_ms) {
    emulator fake = {0};
    snprintf(fake.base_url, sizeof fake.base_url, "http://127.0.0.1:%d/api/v1", srv->port);
    return client_with_timeout(&fake, "msk_test_hostile", timeout_ms);
}

/* ------------------------------------------------------------ the servers */

static void endless_json(int index, const char *head, int fd) {
    (void)index;
    (void)head;
    send_text(fd, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n[");
    write_endlessly(fd, '1', 65536, NULL);
}

static void absurd_length(int index, const char *head, int fd) {
    (void)index;
    (void)head;
    send_text(fd, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5000000000\r\n\r\n{");
    pause_ms(3000);
}

static void slow_answer(int index, const char *head, int fd) {
    (void)index;
    (void)head;
    pause_ms(3000);
    send_text(fd, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}");
}

static void endless_line(int index, const char *head, int fd) {
    (void)index;
    (void)head;
    send_text(fd, SSE_HEAD "data: ");
    write_endlessly(fd, 'x', 65536, NULL);
}

static void events_text(char *out, size_t len, int first, int last) {
    size_t used = 0;
    for (int n = first; n <= last && used < len; n++) {
        used += (size_t)snprintf(out + used, len - used, "id: %d\ndata: %d\n\n", n, n);
    }
}

static void clean_close_with_ids(int index, const char *head, int fd) {
    char body[4096];
    char last[32] = {0};
    send_text(fd, SSE_HEAD);
    if (index == 0) {
        send_text(fd, "retry: 10\n\n");
        events_text(body, sizeof body, 1, 7);
        send_text(fd, body);
    } else if (header_value(head, "last-event-id", last, sizeof last) && strcmp(last, "7") == 0) {
        events_text(body, sizeof body, 8, 30);
        send_text(fd, body);
        send_text(fd, "data: [DONE]\n\n");
    }
}

static void post_stream_cut(int index, const char *head, int fd) {
    (void)index;
    (void)head;
    char body[256];
    send_text(fd, SSE_HEAD "retry: 10\n\n");
    events_text(body, sizeof body, 1, 3);
    send_text(fd, body);
}

static void cursor_cycle(int index, const char *head, int fd) {
    (void)index;
    const char *body = strstr(head, "cursor=B") ? "{\"data\":[{\"id\":\"w2\",\"url\":\"https://h.example/2\"}],\"next_cursor\":\"A\"}"
                                                : "{\"data\":[{\"id\":\"w1\",\"url\":\"https://h.example/1\"}],\"next_cursor\":\"B\"}";
    char out[512];
    snprintf(out, sizeof out, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %zu\r\nconnection: close\r\n\r\n%s",
             strlen(body), body);
    send_text(fd, out);
}

static void silent_stream(int index, const char *head, int fd) {
    (void)index;
    (void)head;
    send_text(fd, SSE_HEAD);
    pause_ms(5000);
}

static void silent_answer(int index, const char *head, int fd) {
    (void)index;
    (void)head;
    (void)fd;
    pause_ms(5000);
}

/* ------------------------------------------------------------------ tests */

void test_hostile_bodies(const emulator *e) {
    (void)e;
    miosa_error *err = NULL;
    char *json = NULL;

    server *endless = server_start(endless_json);
    miosa_client *c = hostile_client(endless, 0);
    miosa_status s = miosa_call(c, MIOSA_OP_SANDBOXES_GET, "[\"sbx_1\"]", NULL, &json, &err);
    CHECKF(err == NULL || strstr(err->message, "max_response_bytes"), "names the limit: %s", err->message);
    EXPECT_STATUS(s, err, MIOSA_ERR_LIMIT_EXCEEDED, "endless JSON body");
    miosa_client_free(c);

    server *absurd = server_start(absurd_length);
    c = hostile_client(absurd, 0);
    double t0 = now_s();
    s = miosa_call(c, MIOSA_OP_SANDBOXES_GET, "[\"sbx_1\"]", NULL, &json, &err);
    EXPECT_STATUS(s, err, MIOSA_ERR_LIMIT_EXCEEDED, "absurd Content-Length");
    CHECKF(now_s() - t0 < 2.0, "refused before reading (%.2f s)", now_s() - t0);
    miosa_client_free(c);

    server *line = server_start(endless_line);
    c = hostile_client(line, 0);
    miosa_event_stream *stream = NULL;
    s = miosa_stream_open(c, MIOSA_OP_STREAM_SSE, "[\"/stream\"]", NULL, &stream, &err);
    if (EXPECT_OK(s, err, "open the endless line")) {
        const miosa_event *ev = NULL;
        s = miosa_stream_next(stream, &ev, &err);
        CHECKF(err == NULL || strstr(err->message, "max_event_bytes"), "names the limit: %s", err->message);
        EXPECT_STATUS(s, err, MIOSA_ERR_LIMIT_EXCEEDED, "never-ending SSE line");
        miosa_stream_free(stream);
    }
    miosa_client_free(c);
}

void test_hostile_timeouts(const emulator *e) {
    miosa_error *err = NULL;
    char *json = NULL;
    server *slow = server_start(slow_answer);
    miosa_client *c = hostile_client(slow, 1000);
    double t0 = now_s();
    miosa_status s = miosa_call(c, MIOSA_OP_SANDBOXES_GET, "[\"sbx_1\"]", NULL, &json, &err);
    EXPECT_STATUS(s, err, MIOSA_ERR_TIMEOUT, "an answer after 3 s to a 1 s client");
    CHECKF(now_s() - t0 < 2.5, "fails in about 1 s (%.2f s)", now_s() - t0);
    miosa_client_free(c);

    /* A 4 s command with a 2 s client timeout and its own timeout of 20 succeeds. */
    c = client_with_timeout(e, e->api_key, 2000);
    if (!c) {
        return;
    }
    s = miosa_call(c, MIOSA_OP_SANDBOX_EXEC_RUN, "[\"sbx_fixture\"]",
                   "{\"command\": \"sleep 4; echo done\", \"timeout\": 20}", &json, &err);
    if (EXPECT_OK(s, err, "a 4 s command")) {
        CHECKF(strstr(json, "done") != NULL, "its output: %s", json);
        miosa_string_free(json);
    }
    miosa_client_free(c);
}

void test_hostile_streams(const emulator *e) {
    (void)e;
    miosa_error *err = NULL;
    server *clean = server_start(clean_close_with_ids);
    miosa_client *c = hostile_client(clean, 0);
    miosa_event_stream *stream = NULL;
    miosa_status s = miosa_stream_open(c, MIOSA_OP_STREAM_SSE, "[\"/stream\"]", NULL, &stream, &err);
    if (EXPECT_OK(s, err, "open")) {
        int seen = 0, in_order = 1;
        const miosa_event *ev = NULL;
        while ((s = miosa_stream_next(stream, &ev, &err)) == MIOSA_OK && ev) {
            seen++;
            in_order &= atoi(ev->data) == seen;
        }
        EXPECT_OK(s, err, "the resumed stream ends cleanly");
        CHECKF(seen == 30 && in_order, "all 30 events once, in order (saw %d)", seen);
        CHECKF(server_connections(clean) == 2, "one resume (%d connections)", server_connections(clean));
        char last[32] = {0};
        header_value(clean->heads[1], "last-event-id", last, sizeof last);
        CHECKF(strcmp(last, "7") == 0, "resumed after 7 (%s)", last);
        miosa_stream_free(stream);
    }
    miosa_client_free(c);

    /* A POST stream cut with retries off (the C default) is not replayed. */
    server *post = server_start(post_stream_cut);
    c = hostile_client(post, 0);
    s = miosa_stream_open(c, MIOSA_OP_COMPLETIONS_STREAM, NULL, "{\"model\": \"m\", \"messages\": []}", &stream, &err);
    if (EXPECT_OK(s, err, "open the completion")) {
        int seen = 0;
        const miosa_event *ev = NULL;
        while ((s = miosa_stream_next(stream, &ev, &err)) == MIOSA_OK && ev) {
            seen++;
        }
        EXPECT_STATUS(s, err, MIOSA_ERR_CONNECTION, "a cut POST stream");
        CHECKF(seen == 3, "the events before the cut (%d)", seen);
        CHECKF(server_connections(post) == 1, "one POST (%d)", server_connections(post));
        miosa_stream_free(stream);
    }
    miosa_client_free(c);

    server *cycle = server_start(cursor_cycle);
    c = hostile_client(cycle, 0);
    miosa_pager *pager = NULL;
    s = miosa_pager_new(c, MIOSA_OP_WEBHOOKS_LIST, NULL, NULL, &pager, &err);
    if (EXPECT_OK(s, err, "pager")) {
        int items = 0;
        char *item = NULL;
        while ((s = miosa_pager_next(pager, &item, &err)) == MIOSA_OK && item && items < 10) {
            items++;
            miosa_string_free(item);
        }
        EXPECT_STATUS(s, err, MIOSA_ERR_DECODE, "a cursor cycle");
        CHECKF(items == 2, "w1 and w2 before the refusal (%d)", items);
        miosa_pager_free(pager);
    }
    miosa_client_free(c);
}

typedef struct {
    miosa_event_stream *stream;
    miosa_status status;
    int got_event;
    double ended_at;
    const miosa_client *client;
} reader_state;

static void *read_one(void *arg) {
    reader_state *r = arg;
    const miosa_event *ev = NULL;
    miosa_error *err = NULL;
    r->status = miosa_stream_next(r->stream, &ev, &err);
    r->got_event = ev != NULL;
    r->ended_at = now_s();
    miosa_error_free(err);
    return NULL;
}

static void *call_one(void *arg) {
    reader_state *r = arg;
    char *json = NULL;
    miosa_error *err = NULL;
    r->status = miosa_call(r->client, MIOSA_OP_SANDBOXES_GET, "[\"sbx_1\"]", NULL, &json, &err);
    r->ended_at = now_s();
    miosa_string_free(json);
    miosa_error_free(err);
    return NULL;
}

void test_hostile_close_and_cancel(const emulator *e) {
    (void)e;
    miosa_error *err = NULL;
    server *silent = server_start(silent_stream);

    /* miosa_stream_close from another thread wakes a blocked miosa_stream_next. */
    miosa_client *c = hostile_client(silent, 0);
    reader_state r = {0};
    miosa_status s = miosa_stream_open(c, MIOSA_OP_STREAM_SSE, "[\"/stream\"]", NULL, &r.stream, &err);
    if (EXPECT_OK(s, err, "open")) {
        pthread_t t;
        pthread_create(&t, NULL, read_one, &r);
        pause_ms(300);
        double closed_at = now_s();
        miosa_stream_close(r.stream);
        pthread_join(t, NULL);
        CHECKF(r.status == MIOSA_OK && !r.got_event, "the read ends (status %d)", (int)r.status);
        CHECKF(r.ended_at - closed_at < 0.5, "at once (%.2f s)", r.ended_at - closed_at);
        miosa_stream_free(r.stream);
    }

    /* A cancel token ends a blocked stream read and a blocking call from another thread. */
    miosa_cancel_token *token = miosa_cancel_token_new();
    miosa_client *cancellable = NULL;
    s = miosa_client_with_cancel(c, token, &cancellable, &err);
    if (EXPECT_OK(s, err, "miosa_client_with_cancel")) {
        reader_state rs = {0};
        s = miosa_stream_open(cancellable, MIOSA_OP_STREAM_SSE, "[\"/stream\"]", NULL, &rs.stream, &err);
        server *quiet = server_start(silent_answer);
        miosa_client *quiet_client = hostile_client(quiet, 0);
        miosa_client *quiet_cancellable = NULL;
        miosa_status qs = miosa_client_with_cancel(quiet_client, token, &quiet_cancellable, &err);
        if (EXPECT_OK(s, err, "open") && EXPECT_OK(qs, err, "with_cancel")) {
            reader_state rc = {0};
            rc.client = quiet_cancellable;
            pthread_t reader, caller;
            pthread_create(&reader, NULL, read_one, &rs);
            pthread_create(&caller, NULL, call_one, &rc);
            pause_ms(300);
            double cancelled_at = now_s();
            miosa_cancel_token_cancel(token);
            pthread_join(reader, NULL);
            pthread_join(caller, NULL);
            CHECK(miosa_cancel_token_is_cancelled(token));
            CHECKF(rs.status == MIOSA_ERR_CANCELLED, "the stream read is cancelled (%s)", miosa_status_name((int)rs.status));
            CHECKF(rc.status == MIOSA_ERR_CANCELLED, "the call is cancelled (%s)", miosa_status_name((int)rc.status));
            CHECKF(rs.ended_at - cancelled_at < 0.5 && rc.ended_at - cancelled_at < 0.5, "at once");
            miosa_stream_free(rs.stream);
        }
        miosa_client_free(quiet_cancellable);
        miosa_client_free(quiet_client);
        miosa_client_free(cancellable);
    }
    miosa_cancel_token_free(token);
    miosa_client_free(c);
}
