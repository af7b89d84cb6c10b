/*
 * Test harness: a real miosa-emulator per test (spawned on port 0), checks
 * that count failures without stopping the test, and small helpers around
 * the library.
 */
#ifndef MIOSA_TEST_HARNESS_H
#define MIOSA_TEST_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include <miosa.h>

#include "json.h"

typedef struct {
    pid_t pid;
    char base_url[256];
    char api_key[128];
    char admin_key[128];
} emulator;

/* Starts `$MIOSA_EMULATOR --port 0` and reads its first line; 0 on success. */
int emulator_start(emulator *e);
/* Terminates it and waits for it. */
void emulator_stop(emulator *e);

/* A client for the emulator with `key` (NULL options but the base URL). */
miosa_client *client_for(const emulator *e, const char *key);
/* Same, with a receive timeout in milliseconds (0: default). */
miosa_client *client_with_timeout(const emulator *e, const char *key, uint64_t timeout_ms);

/* Failure accounting for the running test. */
void check_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int test_failures(void);

#define CHECK(cond)                                                 \
    do {                                                            \
        if (!(cond)) {                                              \
            check_fail(__FILE__, __LINE__, "check failed: %s", #cond); \
        }                                                           \
    } while (0)

#define CHECKF(cond, ...)                             \
    do {                                              \
        if (!(cond)) {                                \
            check_fail(__FILE__, __LINE__, __VA_ARGS__); \
        }                                             \
    } while (0)

/* Reports a failed call (status and error text) and frees `err`; 1 when `status` is MIOSA_OK. */
int expect_ok_at(const char *file, int line, miosa_status status, miosa_error *err, const char *what);
#define EXPECT_OK(status, err, what) expect_ok_at(__FILE__, __LINE__, (status), (err), (what))

/* Checks a failed call: `status` and err->status equal `want`, message non-empty; frees `err`. */
int expect_status_at(const char *file, int line, miosa_status status, miosa_error *err, miosa_status want,
                     const char *what);
#define EXPECT_STATUS(status, err, want, what) expect_status_at(__FILE__, __LINE__, (status), (err), (want), (what))

/* Calls an operation that returns JSON and parses the result; NULL (and a failure) on error. */
jval *call_json(const miosa_client *c, const char *op, const char *args, const char *params);

/* The newest recorded request that is not a control request (parsed document and the entry in it). */
jval *last_request(const miosa_client *c, const jval **entry);

/* Reads a whole file; NULL when it cannot. */
char *read_file(const char *path);

/* Path from an environment variable, or the default (relative to the repository root). */
const char *env_or(const char *name, const char *fallback);

#endif
