/*
 * Moves a 64 MiB file to a sandbox and back through local paths, drawing the
 * progress on stderr, then prints the process's peak memory: the library
 * streams the file, so the peak stays far below the file's size.
 *
 *   cc examples/c/transfer.c $(pkg-config --cflags --libs miosa) -o transfer
 *   MIOSA_API_KEY=msk_... [MIOSA_BASE_URL=http://127.0.0.1:PORT/api/v1] ./transfer [DIR]
 *
 * (`make -C bindings-c example` builds it against the in-repository library.)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <miosa.h>

#define MIB (1024u * 1024u)
#define SIZE_MIB 64u

static void draw(uint64_t done, int64_t total, void *user_data) {
    const char *what = user_data;
    int width = 40, filled = total > 0 ? (int)((double)done / (double)total * width) : 0;
    fprintf(stderr, "\r%-8s [%.*s%*s] %3llu MiB", what, filled, "########################################",
            width - filled, "", (unsigned long long)(done / MIB));
    if (total > 0 && done == (uint64_t)total) {
        fputc('\n', stderr);
    }
}

static long peak_rss_mib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
        }
    }
    if (f) {
        fclose(f);
    }
    return kib < 0 ? -1 : kib / 1024;
}

static int fail(const char *what, miosa_error *err) {
    fprintf(stderr, "%s failed: %s\n", what, err ? err->message : "?");
    miosa_error_free(err);
    return 1;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : ".";
    char up[4096], down[4096];
    snprintf(up, sizeof up, "%s/miosa-up.bin", dir);
    snprintf(down, sizeof down, "%s/miosa-down.bin", dir);
    FILE *f = fopen(up, "wb");
    if (!f) {
        perror(up);
        return 1;
    }
    static unsigned char chunk[MIB];
    for (unsigned m = 0; m < SIZE_MIB; m++) {
        memset(chunk, (int)m, sizeof chunk);
        fwrite(chunk, 1, sizeof chunk, f);
    }
    fclose(f);

    miosa_options options = MIOSA_OPTIONS_INIT;
    options.base_url = getenv("MIOSA_BASE_URL");
    options.timeout_ms = 120000;
    miosa_client *client = NULL;
    miosa_error *err = NULL;
    if (miosa_client_new(getenv("MIOSA_API_KEY"), &options, &client, &err) != MIOSA_OK) {
        return fail("miosa_client_new", err);
    }
    char *id = NULL;
    int status = 1;
    uint64_t written = 0;
    if (miosa_sandboxes_create(client, "{\"name\": \"transfer\"}", &id, NULL, &err) != MIOSA_OK) {
        status = fail("miosa_sandboxes_create", err);
    } else if (miosa_upload_from_path(client, id, "/workspace/big.bin", up, draw, (void *)"upload", NULL, NULL, &err) !=
               MIOSA_OK) {
        status = fail("miosa_upload_from_path", err);
    } else if (miosa_download_to_path(client, id, "/workspace/big.bin", down, draw, (void *)"download", NULL, &written,
                                      &err) != MIOSA_OK) {
        status = fail("miosa_download_to_path", err);
    } else {
        printf("moved %u MiB up and %llu MiB down; peak RSS %ld MiB\n", SIZE_MIB,
               (unsigned long long)(written / MIB), peak_rss_mib());
        status = written == (uint64_t)SIZE_MIB * MIB ? 0 : 1;
    }
    if (id) {
        char *out = NULL;
        char args[256];
        snprintf(args, sizeof args, "[\"%s\"]", id);
        if (miosa_call(client, "sandboxes.delete", args, NULL, &out, &err) != MIOSA_OK) {
            fail("sandboxes.delete", err);
        }
        miosa_string_free(out);
        miosa_string_free(id);
    }
    miosa_client_free(client);
    remove(up);
    remove(down);
    return status;
}
