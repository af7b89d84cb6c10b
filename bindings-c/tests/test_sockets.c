/*
 * WebSockets through the C surface, against the emulator's real terminal:
 * typing `echo hi-term` and reading it back, resizing (`stty size`),
 * interactive exec with its exit code, and miosa_socket_close from another
 * thread ending a pending miosa_socket_next.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests.h"

#define FIXTURE_ARGS "{\"id\": \"sbx_fixture\"}"

static double seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Counts the occurrences of `needle` in `hay`. */
static int occurrences(const char *hay, const char *needle) {
    int n = 0;
    for (const char *at = strstr(hay, needle); at; at = strstr(at + 1, needle)) {
        n++;
    }
    return n;
}

/* Reads into `seen` until `want` has arrived `times` times or 10 s pass; 1 when it did. */
static int read_until(miosa_socket *s, char *seen, size_t cap, const char *want, int times) {
    size_t used = strlen(seen);
    double t0 = seconds();
    while (seconds() - t0 < 10) {
        miosa_socket_channel channel;
        const uint8_t *data = NULL;
        size_t len = 0;
        miosa_error *err = NULL;
        miosa_status st = miosa_socket_next(s, 200, &channel, &data, &len, &err);
        if (st != MIOSA_OK) {
            CHECKF(0, "socket failed: %s", err ? err->message : "?");
            miosa_error_free(err);
            return 0;
        }
        if (channel == MIOSA_SOCKET_END) {
            return 0;
        }
        if (channel != MIOSA_SOCKET_WAITING && used + len < cap) {
            memcpy(seen + used, data, len);
            used += len;
            seen[used] = '\0';
        }
        if (occurrences(seen, want) >= times) {
            return 1;
        }
    }
    return 0;
}

void test_socket_terminal(const emulator *e) {
    miosa_client *c = client_for(e, e->api_key);
    miosa_socket *term = NULL;
    miosa_error *err = NULL;
    miosa_status st = miosa_socket_open(c, MIOSA_OP_SANDBOX_TERMINAL_STREAM, FIXTURE_ARGS,
                                        "{\"cols\": 80, \"rows\": 24}", &term, &err);
    CHECKF(st == MIOSA_OK && term, "terminal opens: %s", err ? err->message : "");
    miosa_error_free(err);
    if (!term) {
        miosa_client_free(c);
        return;
    }
    static char seen[1 << 16];
    seen[0] = '\0';
    const char *typed = "echo hi-term\n";
    CHECK(miosa_socket_send(term, (const uint8_t *)typed, strlen(typed), 1, NULL) == MIOSA_OK);
    /* Once in the echoed input line, once as the command's output line. */
    CHECKF(read_until(term, seen, sizeof seen, "hi-term\r\n", 2), "hi-term read back; got %s", seen);

    CHECK(miosa_socket_resize(term, 101, 37, NULL) == MIOSA_OK);
    const char *stty = "stty size\n";
    CHECK(miosa_socket_send(term, (const uint8_t *)stty, strlen(stty), 0, NULL) == MIOSA_OK);
    CHECKF(read_until(term, seen, sizeof seen, "37 101", 1), "stty size answers the new size; got %s", seen);

    CHECK(miosa_socket_resize(term, 0, 5, &err) == MIOSA_ERR_INVALID_ARGUMENT);
    CHECK(err && strstr(err->message, "cols and rows"));
    miosa_error_free(err);

    miosa_socket_close(term);
    miosa_socket_channel channel = MIOSA_SOCKET_WAITING;
    const uint8_t *data = NULL;
    size_t len = 0;
    CHECK(miosa_socket_next(term, -1, &channel, &data, &len, NULL) == MIOSA_OK);
    CHECK(channel == MIOSA_SOCKET_END && data == NULL && len == 0);
    miosa_socket_free(term);
    miosa_client_free(c);
}

void test_socket_exec_exit_code(const emulator *e) {
    miosa_client *c = client_for(e, e->api_key);
    miosa_socket *run = NULL;
    const char *args = "{\"id\": \"sbx_fixture\", \"command\": \"read x; echo got-$x; echo warn >&2; exit 3\"}";
    CHECK(miosa_socket_open(c, MIOSA_OP_EXEC_SPAWN, args, NULL, &run, NULL) == MIOSA_OK && run);
    if (!run) {
        miosa_client_free(c);
        return;
    }
    int64_t code = -1;
    CHECK(miosa_socket_exit_code(run, &code) == 0);
    CHECK(miosa_socket_send(run, (const uint8_t *)"c\n", 2, 1, NULL) == MIOSA_OK);
    char out[256] = "", errs[256] = "";
    double t0 = seconds();
    for (;;) {
        miosa_socket_channel channel;
        const uint8_t *data = NULL;
        size_t len = 0;
        if (miosa_socket_next(run, 10000, &channel, &data, &len, NULL) != MIOSA_OK || channel == MIOSA_SOCKET_END ||
            seconds() - t0 > 10) {
            break;
        }
        char *into = channel == MIOSA_SOCKET_STDOUT ? out : channel == MIOSA_SOCKET_STDERR ? errs : NULL;
        if (into && strlen(into) + len < 256) {
            strncat(into, (const char *)data, len);
        }
    }
    CHECKF(strcmp(out, "got-c\n") == 0, "stdout: %s", out);
    CHECKF(strcmp(errs, "warn\n") == 0, "stderr: %s", errs);
    CHECK(miosa_socket_exit_code(run, &code) == 1 && code == 3);
    miosa_socket_free(run);
    miosa_client_free(c);
}

static void *close_later(void *socket) {
    struct timespec pause = {0, 300 * 1000 * 1000};
    nanosleep(&pause, NULL);
    miosa_socket_close((miosa_socket *)socket);
    return NULL;
}

void test_socket_close_from_another_thread(const emulator *e) {
    miosa_client *c = client_for(e, e->api_key);
    miosa_socket *run = NULL;
    const char *args = "{\"id\": \"sbx_fixture\", \"command\": \"sleep 20\"}";
    CHECK(miosa_socket_open(c, MIOSA_OP_EXEC_SPAWN, args, NULL, &run, NULL) == MIOSA_OK && run);
    if (!run) {
        miosa_client_free(c);
        return;
    }
    pthread_t closer;
    pthread_create(&closer, NULL, close_later, run);
    double t0 = seconds();
    miosa_socket_channel channel = MIOSA_SOCKET_WAITING;
    const uint8_t *data = NULL;
    size_t len = 0;
    CHECK(miosa_socket_next(run, -1, &channel, &data, &len, NULL) == MIOSA_OK);
    double waited = seconds() - t0;
    pthread_join(closer, NULL);
    CHECK(channel == MIOSA_SOCKET_END);
    CHECKF(waited >= 0.2 && waited < 5, "close woke the read (%.2f s)", waited);
    miosa_socket_free(run);
    miosa_client_free(c);
}
