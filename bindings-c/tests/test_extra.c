/* Calls beyond the seed that take more than one request to prove: a streamed
 * command's lines arrive while it runs, and multipart uploads (from a buffer
 * and from a local file) download byte for byte. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests.h"

/* `alpha`, then a bounded wait for a file written only after `alpha` was
 * read: `beta` can follow only if `alpha` arrived while the command ran. */
#define HANDSHAKE                                                                                  \
    "echo alpha; i=0; while [ ! -f go ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; " \
    "[ -f go ] && echo beta"

void test_streamed_exec_order(const emulator *e) {
    miosa_client *c = client_for(e, e->api_key);
    if (!c) {
        return;
    }
    miosa_event_stream *stream = NULL;
    miosa_error *err = NULL;
    miosa_status s = miosa_stream_open(c, MIOSA_OP_SANDBOX_EXEC_STREAM, "[\"sbx_fixture\"]",
                                       "{\"command\": \"" HANDSHAKE "\", \"timeout\": 30}", &stream, &err);
    if (EXPECT_OK(s, err, "miosa_stream_open (exec.stream)")) {
        char seen[4][160];
        int n = 0;
        for (int i = 0; i < 10 && n < 4; i++) {
            const miosa_event *ev = NULL;
            s = miosa_stream_next(stream, &ev, &err);
            if (!EXPECT_OK(s, err, "miosa_stream_next") || !ev) {
                break;
            }
            snprintf(seen[n], sizeof seen[n], "%s %s", ev->event, ev->data);
            n++;
            if (strcmp(ev->event, "stdout") == 0 && strstr(ev->data, "\"alpha\"")) {
                char *out = NULL;
                s = miosa_call_upload(c, MIOSA_OP_SANDBOX_FILES_WRITE, "[\"sbx_fixture\", \"/workspace/go\"]", NULL,
                                      (const uint8_t *)"go", 2, &out, &err);
                if (EXPECT_OK(s, err, "writing the go file")) {
                    miosa_string_free(out);
                }
            }
            if (strcmp(ev->event, "exit") == 0) {
                break;
            }
        }
        CHECKF(n == 3, "three events (saw %d)", n);
        CHECKF(n > 0 && strcmp(seen[0], "stdout {\"line\":\"alpha\"}") == 0, "first: %s", n > 0 ? seen[0] : "");
        CHECKF(n > 1 && strcmp(seen[1], "stdout {\"line\":\"beta\"}") == 0, "second: %s", n > 1 ? seen[1] : "");
        CHECKF(n > 2 && strcmp(seen[2], "exit {\"exit_code\":0}") == 0, "third: %s", n > 2 ? seen[2] : "");
        miosa_stream_free(stream);
    }
    miosa_client_free(c);
}

static uint8_t *sample(size_t len) {
    uint8_t *out = malloc(len);
    for (size_t i = 0; out && i < len; i++) {
        out[i] = (uint8_t)((i * 7 + i / 256) % 256);
    }
    return out;
}

static void check_download(miosa_client *c, const char *args, const uint8_t *want, size_t len) {
    miosa_bytes back = {0};
    miosa_error *err = NULL;
    miosa_status s = miosa_call_bytes(c, MIOSA_OP_FILES_DOWNLOAD, args, NULL, &back, &err);
    if (EXPECT_OK(s, err, "files.download")) {
        CHECKF(back.len == len, "downloaded %zu bytes of %zu", back.len, len);
        CHECK(back.len == len && memcmp(back.data, want, len) == 0);
        miosa_bytes_free(&back);
    }
}

void test_multipart_round_trip(const emulator *e) {
    miosa_client *c = client_for(e, e->api_key);
    if (!c) {
        return;
    }
    miosa_error *err = NULL;
    char *out = NULL;
    size_t len = 70000;
    uint8_t *bytes = sample(len);
    miosa_status s = miosa_call_upload(c, MIOSA_OP_FILES_WRITE, "[\"cmp_fixture\", \"/home/user/rt/from-bytes.bin\"]",
                                       NULL, bytes, len, &out, &err);
    if (EXPECT_OK(s, err, "files.write (multipart from a buffer)")) {
        CHECK(strstr(out, "from-bytes.bin") != NULL);
        miosa_string_free(out);
        check_download(c, "[\"cmp_fixture\", \"/home/user/rt/from-bytes.bin\"]", bytes, len);
    }
    free(bytes);

    char local[] = "/tmp/miosa-upload-XXXXXX";
    int fd = mkstemp(local);
    CHECK(fd >= 0);
    size_t disk_len = 300000;
    uint8_t *on_disk = sample(disk_len);
    if (fd >= 0) {
        CHECK(write(fd, on_disk, disk_len) == (ssize_t)disk_len);
        close(fd);
        char args[256];
        snprintf(args, sizeof args, "[\"cmp_fixture\", \"%s\", \"/home/user/rt/from-disk.bin\"]", local);
        s = miosa_call(c, MIOSA_OP_FILES_UPLOAD, args, NULL, &out, &err);
        if (EXPECT_OK(s, err, "files.upload (multipart from a local file)")) {
            miosa_string_free(out);
            check_download(c, "[\"cmp_fixture\", \"/home/user/rt/from-disk.bin\"]", on_disk, disk_len);
        }
        unlink(local);
    }
    free(on_disk);

    s = miosa_call(c, MIOSA_OP_FILES_UPLOAD, "[\"cmp_fixture\", \"/nonexistent/miosa/file.bin\", \"/home/user/x.bin\"]",
                   NULL, &out, &err);
    if (err) {
        CHECKF(strstr(err->message, "`local_path`") != NULL, "the error names the parameter: %s", err->message);
    }
    EXPECT_STATUS(s, err, MIOSA_ERR_INVALID_ARGUMENT, "files.upload of a missing local file");
    miosa_client_free(c);
}
