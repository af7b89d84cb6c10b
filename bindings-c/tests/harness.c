#define _POSIX_C_SOURCE 200809L
#include "harness.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;

void check_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    failures++;
    fprintf(stderr, "    %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int test_failures(void) {
    return failures;
}

const char *env_or(const char *name, const char *fallback) {
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

/* Copies the value of `key=` from the listening line into `dst`. */
static int field(const char *line, const char *key, char *dst, size_t cap) {
    const char *at = strstr(line, key);
    if (!at) {
        return 0;
    }
    at += strlen(key);
    size_t n = strcspn(at, " \r\n");
    if (n == 0 || n >= cap) {
        return 0;
    }
    memcpy(dst, at, n);
    dst[n] = '\0';
    return 1;
}

int emulator_start(emulator *e) {
    const char *bin = env_or("MIOSA_EMULATOR", "target/x86_64-unknown-linux-gnu/debug/miosa-emulator");
    int fds[2];
    memset(e, 0, sizeof *e);
    if (pipe(fds) != 0) {
        perror("pipe");
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        /* Should the suite die (a sanitizer abort), its emulators go with it. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) {
            _exit(1);
        }
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(bin, bin, "--port", "0", (char *)NULL);
        fprintf(stderr, "cannot run %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    e->pid = pid;
    /* The emulator prints one line and nothing more on stdout. */
    FILE *out = fdopen(fds[0], "r");
    char line[1024] = {0};
    int ok = out && fgets(line, sizeof line, out) != NULL;
    if (out) {
        fclose(out);
    } else {
        close(fds[0]);
    }
    if (!ok || strncmp(line, "miosa-emulator listening ", 25) != 0 ||
        !field(line, "base_url=", e->base_url, sizeof e->base_url) ||
        !field(line, "api_key=", e->api_key, sizeof e->api_key) ||
        !field(line, "admin_key=", e->admin_key, sizeof e->admin_key)) {
        fprintf(stderr, "the emulator (%s) did not announce itself: %s\n", bin, line);
        emulator_stop(e);
        return -1;
    }
    return 0;
}

void emulator_stop(emulator *e) {
    if (e->pid > 0) {
        kill(e->pid, SIGTERM);
        while (waitpid(e->pid, NULL, 0) < 0 && errno == EINTR) {
        }
        e->pid = 0;
    }
}

miosa_client *client_with_timeout(const emulator *e, const char *key, uint64_t timeout_ms) {
    miosa_options options = MIOSA_OPTIONS_INIT;
    miosa_client *c = NULL;
    miosa_error *err = NULL;
    options.base_url = e->base_url;
    options.timeout_ms = timeout_ms;
    /* Retries are on by default; the suite's plain clients see every fault. */
    options.disable_retries = true;
    miosa_status s = miosa_client_new(key, &options, &c, &err);
    if (!EXPECT_OK(s, err, "miosa_client_new")) {
        return NULL;
    }
    return c;
}

miosa_client *client_for(const emulator *e, const char *key) {
    return client_with_timeout(e, key, 0);
}

int expect_ok_at(const char *file, int line, miosa_status status, miosa_error *err, const char *what) {
    if (status == MIOSA_OK && err == NULL) {
        return 1;
    }
    check_fail(file, line, "%s: status %s (%d): %s", what, miosa_status_name((int)status), (int)status,
               err ? err->message : "(no error struct)");
    miosa_error_free(err);
    return 0;
}

int expect_status_at(const char *file, int line, miosa_status status, miosa_error *err, miosa_status want,
                     const char *what) {
    int ok = 1;
    if (status != want) {
        check_fail(file, line, "%s: status %s, expected %s (%s)", what, miosa_status_name((int)status),
                   miosa_status_name((int)want), err ? err->message : "no error struct");
        ok = 0;
    } else if (!err) {
        check_fail(file, line, "%s: no miosa_error for a failure", what);
        ok = 0;
    } else if (err->status != want || !err->message || !*err->message || !err->kind ||
               strcmp(err->kind, miosa_status_name((int)want)) != 0) {
        check_fail(file, line, "%s: inconsistent error (status %d, kind %s)", what, (int)err->status,
                   err->kind ? err->kind : "NULL");
        ok = 0;
    }
    miosa_error_free(err);
    return ok;
}

jval *call_json(const miosa_client *c, const char *op, const char *args, const char *params) {
    char *out = NULL;
    miosa_error *err = NULL;
    miosa_status s = miosa_call(c, op, args, params, &out, &err);
    if (!EXPECT_OK(s, err, op)) {
        return NULL;
    }
    jval *v = json_parse(out);
    CHECKF(v != NULL, "%s: the result is not JSON: %s", op, out);
    miosa_string_free(out);
    return v;
}

jval *last_request(const miosa_client *c, const jval **entry) {
    char *out = NULL;
    miosa_error *err = NULL;
    *entry = NULL;
    miosa_status s = miosa_request(c, "GET", "/_emulator/requests?limit=3", NULL, &out, &err);
    if (!EXPECT_OK(s, err, "GET /_emulator/requests")) {
        return NULL;
    }
    jval *doc = json_parse(out);
    miosa_string_free(out);
    if (!doc || doc->type != J_ARR) {
        check_fail(__FILE__, __LINE__, "the request log is not a JSON list");
        json_free(doc);
        return NULL;
    }
    for (size_t i = doc->n; i > 0; i--) {
        const char *path = json_get_str(&doc->items[i - 1], "path");
        if (path && !strstr(path, "/_emulator/")) {
            *entry = &doc->items[i - 1];
            break;
        }
    }
    return doc;
}

char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            break;
        }
        if (cap - n - 1 == 0) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
    }
    return buf;
}
