/* `write_many` items from tests/files/write_many.json, the cases every language
 * replays. Items are JSON here: text content goes as `content` (the core sends it
 * base64-encoded), binary content (`{"$hex": …}` in the file) as `content_base64`
 * encoded by the caller. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests.h"

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Decodes `hex` into a malloc'd buffer of *len bytes. */
static uint8_t *from_hex(const char *hex, size_t *len) {
    size_t n = strlen(hex) / 2;
    uint8_t *out = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        out[i] = (uint8_t)(hex_digit(hex[2 * i]) * 16 + hex_digit(hex[2 * i + 1]));
    }
    *len = n;
    return out;
}

/* Base64 of `len` bytes, malloc'd and NUL-terminated. */
static char *to_base64(const uint8_t *data, size_t len) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < len) v |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < len) v |= data[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? alphabet[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

/* Appends `text` to the growing buffer. */
static void append(char **buf, size_t *len, const char *text, size_t n) {
    *buf = realloc(*buf, *len + n + 1);
    memcpy(*buf + *len, text, n);
    *len += n;
    (*buf)[*len] = '\0';
}

/* The case's positional arguments: the sandbox id and its items, binary content
 * turned into `content_base64`. */
static char *args_for(const jval *files) {
    char *out = NULL;
    size_t len = 0;
    const char *head = "[\"sbx_fixture\", [";
    append(&out, &len, head, strlen(head));
    for (size_t i = 0; i < files->n; i++) {
        const jval *item = &files->items[i];
        if (i) append(&out, &len, ", ", 2);
        const jval *content = item->type == J_OBJ ? json_get(item, "content") : NULL;
        const char *hex = content && content->type == J_OBJ ? json_get_str(content, "$hex") : NULL;
        if (!hex) {
            append(&out, &len, item->src, item->src_len);
            continue;
        }
        size_t n = 0;
        uint8_t *bytes = from_hex(hex, &n);
        char *b64 = to_base64(bytes, n);
        const jval *path = json_get(item, "path");
        append(&out, &len, "{\"path\": ", 9);
        append(&out, &len, path->src, path->src_len);
        append(&out, &len, ", \"content_base64\": \"", 21);
        append(&out, &len, b64, strlen(b64));
        append(&out, &len, "\"}", 2);
        free(b64);
        free(bytes);
    }
    append(&out, &len, "]]", 2);
    return out;
}

void test_write_many_vectors(const emulator *e) {
    char path[512];
    snprintf(path, sizeof path, "%s/write_many.json", env_or("MIOSA_FILES_VECTORS", "tests/files"));
    char *text = read_file(path);
    CHECKF(text != NULL, "cannot read %s", path);
    if (!text) return;
    jval *doc = json_parse(text);
    const jval *cases = doc ? json_get(doc, "cases") : NULL;
    CHECK(cases && cases->type == J_ARR && cases->n >= 10);
    miosa_client *c = client_for(e, e->api_key);
    for (size_t k = 0; cases && k < cases->n; k++) {
        const jval *tc = &cases->items[k];
        const char *name = json_get_str(tc, "name");
        char *args = args_for(json_get(tc, "files"));
        const char *want_error = json_get_str(tc, "error");
        char *out = NULL;
        miosa_error *err = NULL;
        miosa_status s = miosa_call(c, MIOSA_OP_SANDBOX_FILES_WRITE_MANY, args, NULL, &out, &err);
        if (want_error) {
            CHECKF(s == MIOSA_ERR_INVALID_ARGUMENT && err && strstr(err->message, want_error), "%s: status %d, %s", name,
                   (int)s, err ? err->message : "(no error)");
            miosa_error_free(err);
        } else if (EXPECT_OK(s, err, name)) {
            const jval *read = json_get(tc, "read");
            for (size_t i = 0; read && i < read->n; i++) {
                char read_args[512];
                snprintf(read_args, sizeof read_args, "[\"sbx_fixture\", \"%s\"]", read->keys[i]);
                size_t want_len = 0;
                uint8_t *want = from_hex(read->items[i].str, &want_len);
                miosa_bytes back = {0};
                miosa_status r = miosa_call_bytes(c, MIOSA_OP_SANDBOX_FILES_READ, read_args, NULL, &back, &err);
                if (EXPECT_OK(r, err, name)) {
                    CHECKF(back.len == want_len && (want_len == 0 || memcmp(back.data, want, want_len) == 0),
                           "%s: %s read back %zu bytes, want %zu", name, read->keys[i], back.len, want_len);
                    miosa_bytes_free(&back);
                }
                err = NULL; /* EXPECT_OK freed it on failure */
                free(want);
            }
        }
        miosa_string_free(out);
        free(args);
    }
    miosa_client_free(c);
    json_free(doc);
    free(text);
}
