/* Path transfers (64 MiB up and down through local files, with progress, peak
 * RSS printed) and the User-Agent the emulator saw. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests.h"

#define MIB (1024u * 1024u)
#define TRANSFER_SIZE (64u * MIB)

typedef struct {
    uint64_t done;
    int64_t total;
    int calls;
} seen_progress;

static void remember_progress(uint64_t done, int64_t total, void *user_data) {
    seen_progress *seen = user_data;
    seen->done = done;
    seen->total = total;
    seen->calls++;
}

/* This process's peak resident set (VmHWM) in KiB, or -1. */
static long peak_rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) {
        return -1;
    }
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib;
}

/* Writes TRANSFER_SIZE pseudo-random bytes to `path`, one MiB at a time. */
static int write_source(const char *path) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        return 0;
    }
    static uint32_t chunk[MIB / 4];
    uint32_t x = 2463534242u;
    int ok = 1;
    for (unsigned m = 0; m < TRANSFER_SIZE / MIB && ok; m++) {
        for (size_t i = 0; i < MIB / 4; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            chunk[i] = x;
        }
        ok = fwrite(chunk, 1, MIB, f) == MIB;
    }
    return fclose(f) == 0 && ok;
}

static int same_files(const char *a, const char *b) {
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    static char x[MIB], y[MIB];
    while (same) {
        size_t na = fread(x, 1, MIB, fa), nb = fread(y, 1, MIB, fb);
        same = na == nb && memcmp(x, y, na) == 0;
        if (na == 0) {
            break;
        }
    }
    if (fa) {
        fclose(fa);
    }
    if (fb) {
        fclose(fb);
    }
    return same;
}

void test_transfer_64_mib(const emulator *e) {
    miosa_client *c = client_with_timeout(e, e->api_key, 120000);
    if (!c) {
        return;
    }
    char dir[] = "/tmp/miosa-transfer-XXXXXX";
    if (!mkdtemp(dir)) {
        check_fail(__FILE__, __LINE__, "mkdtemp failed");
        miosa_client_free(c);
        return;
    }
    char up[64], down[64];
    snprintf(up, sizeof up, "%s/up.bin", dir);
    snprintf(down, sizeof down, "%s/down.bin", dir);
    CHECK(write_source(up));

    jval *sandbox = call_json(c, MIOSA_OP_SANDBOXES_CREATE, NULL, "{\"name\": \"big\", \"wait\": true}");
    const char *id = sandbox ? json_get_str(sandbox, "id") : NULL;
    miosa_error *err = NULL;
    if (id) {
        long before_kib = peak_rss_kib();
        seen_progress sent = {0};
        char *answer = NULL;
        miosa_status s = miosa_upload_from_path(c, id, "/workspace/big.bin", up, remember_progress, &sent, NULL,
                                                &answer, &err);
        if (EXPECT_OK(s, err, "miosa_upload_from_path")) {
            CHECKF(sent.done == TRANSFER_SIZE && sent.total == (int64_t)TRANSFER_SIZE, "upload progress %llu of %lld",
                   (unsigned long long)sent.done, (long long)sent.total);
            CHECKF(sent.calls >= 16, "progress about once per MiB, got %d reports", sent.calls);
            CHECKF(answer && strstr(answer, "/workspace/big.bin"), "answer: %s", answer ? answer : "(null)");
        }
        miosa_string_free(answer);

        seen_progress received = {0};
        uint64_t written = 0;
        s = miosa_download_to_path(c, id, "/workspace/big.bin", down, remember_progress, &received, NULL, &written,
                                   &err);
        if (EXPECT_OK(s, err, "miosa_download_to_path")) {
            CHECKF(written == TRANSFER_SIZE, "wrote %llu bytes", (unsigned long long)written);
            CHECKF(received.done == TRANSFER_SIZE, "download progress %llu", (unsigned long long)received.done);
            CHECKF(received.calls >= 16, "progress about once per MiB, got %d reports", received.calls);
            CHECK(same_files(up, down));
        }
        /* AddressSanitizer's quarantine keeps up to 256 MB of freed memory: examples/c/transfer.c,
         * built without it (scripts/test-c.sh runs it), prints the library's own peak. */
        printf("    64 MiB upload + download through paths: peak RSS %ld MiB under ASan (%ld MiB before)\n",
               peak_rss_kib() / 1024, before_kib / 1024);

        /* A local path that cannot be written names the parameter; a cancelled token stops the call. */
        s = miosa_download_to_path(c, id, "/workspace/big.bin", "/nonexistent-dir/x.bin", NULL, NULL, NULL, NULL, &err);
        CHECKF(s == MIOSA_ERR_INVALID_ARGUMENT && err && strstr(err->message, "local_path"),
               "status %d: %s", (int)s, err ? err->message : "(no error)");
        miosa_error_free(err);
        err = NULL;
        miosa_cancel_token *token = miosa_cancel_token_new();
        miosa_cancel_token_cancel(token);
        s = miosa_upload_from_path(c, id, "/workspace/c.bin", up, NULL, NULL, token, NULL, &err);
        EXPECT_STATUS(s, err, MIOSA_ERR_CANCELLED, "upload with a cancelled token");
        miosa_cancel_token_free(token);
    }
    miosa_status s = miosa_download_to_path(c, NULL, "/workspace/big.bin", down, NULL, NULL, NULL, NULL, &err);
    CHECKF(s == MIOSA_ERR_INVALID_ARGUMENT && err && strstr(err->message, "sandbox_id"), "status %d",
           (int)s);
    miosa_error_free(err);
    json_free(sandbox);
    unlink(up);
    unlink(down);
    rmdir(dir);
    miosa_client_free(c);
}

void test_user_agent(const emulator *e) {
    miosa_client *c = client_for(e, e->api_key);
    if (!c) {
        return;
    }
    json_free(call_json(c, MIOSA_OP_SANDBOXES_LIST, NULL, NULL));
    const jval *entry = NULL;
    jval *log = last_request(c, &entry);
    const char *agent = entry ? json_get_str(json_get(entry, "headers"), "user-agent") : NULL;
    char expected[128];
    snprintf(expected, sizeof expected, "miosa-native/%s c linux x86_64", miosa_version());
    CHECKF(agent && strcmp(agent, expected) == 0, "User-Agent %s, expected %s", agent ? agent : "(none)", expected);
    json_free(log);
    miosa_client_free(c);
}
