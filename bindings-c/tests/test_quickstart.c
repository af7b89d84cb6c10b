/* The seed's "First request" through the typed functions, and binary content both ways. */
#include <stdio.h>
#include <string.h>

#include "tests.h"

void test_first_request(const emulator *e) {
    miosa_client *c = client_for(e, e->api_key);
    if (!c) {
        return;
    }
    miosa_error *err = NULL;
    char *id = NULL, *sandbox_json = NULL;
    miosa_status s = miosa_sandboxes_create(c, "{\"name\": \"quick-exec\"}", &id, &sandbox_json, &err);
    if (EXPECT_OK(s, err, "miosa_sandboxes_create")) {
        CHECK(id != NULL && strlen(id) > 0);
        jval *sandbox = json_parse(sandbox_json);
        CHECKF(sandbox && json_get_str(sandbox, "id") && strcmp(json_get_str(sandbox, "id"), id) == 0,
               "the record's id matches: %s", sandbox_json);
        CHECK(sandbox && json_get_str(sandbox, "name") && strcmp(json_get_str(sandbox, "name"), "quick-exec") == 0);
        json_free(sandbox);

        s = miosa_computer_start(c, id, NULL, NULL, &err);
        EXPECT_OK(s, err, "miosa_computer_start");

        miosa_exec_result *run = NULL;
        s = miosa_exec_run(c, id, "python3 -c 'print(1 + 1)'", NULL, &run, &err);
        if (EXPECT_OK(s, err, "miosa_exec_run")) {
            CHECKF(strcmp(run->stdout_text, "2\n") == 0, "stdout is \"%s\"", run->stdout_text);
            CHECK(run->exit_code == 0);
            CHECK(run->success);
            CHECK(run->stderr_text != NULL && run->json != NULL);
            miosa_exec_result_free(run);
        }

        /* A command that fails is a result, not an error. */
        s = miosa_exec_run(c, id, "sh -c 'echo oops >&2; exit 3'", NULL, &run, &err);
        if (EXPECT_OK(s, err, "miosa_exec_run (failing command)")) {
            CHECK(run->exit_code == 3);
            CHECK(!run->success);
            CHECKF(strstr(run->stderr_text, "oops") != NULL, "stderr is \"%s\"", run->stderr_text);
            miosa_exec_result_free(run);
        }

        char *gone = NULL;
        s = miosa_computer_destroy(c, id, NULL, &gone, &err);
        if (EXPECT_OK(s, err, "miosa_computer_destroy")) {
            CHECK(gone != NULL);
        }
        miosa_string_free(gone);

        char *out = NULL;
        char args[256];
        snprintf(args, sizeof args, "[\"%s\"]", id);
        s = miosa_call(c, MIOSA_OP_SANDBOXES_GET, args, NULL, &out, &err);
        CHECK(out == NULL);
        CHECK(err != NULL && err->http_status == 404);
        EXPECT_STATUS(s, err, MIOSA_ERR_NOT_FOUND, "sandboxes.get after destroy");
    }
    miosa_string_free(id);
    miosa_string_free(sandbox_json);
    miosa_client_free(c);
}

void test_binary_round_trip(const emulator *e) {
    miosa_client *c = client_for(e, e->api_key);
    if (!c) {
        return;
    }
    /* Every byte value, NUL and invalid UTF-8 included. */
    uint8_t content[512];
    for (size_t i = 0; i < sizeof content; i++) {
        content[i] = (uint8_t)(i * 7 + 3);
    }
    char *out = NULL;
    miosa_error *err = NULL;
    miosa_status s = miosa_call_upload(c, MIOSA_OP_SANDBOX_FILES_WRITE, "{\"id\": \"sbx_fixture\", \"path\": \"/workspace/blob.bin\"}",
                                       NULL, content, sizeof content, &out, &err);
    if (EXPECT_OK(s, err, "miosa_call_upload (by name)")) {
        miosa_string_free(out);
        miosa_bytes back = {0};
        s = miosa_call_bytes(c, MIOSA_OP_SANDBOX_FILES_READ, "[\"sbx_fixture\", \"/workspace/blob.bin\"]", NULL, &back, &err);
        if (EXPECT_OK(s, err, "miosa_call_bytes")) {
            CHECKF(back.len == sizeof content, "read %zu bytes", back.len);
            CHECK(back.data != NULL && memcmp(back.data, content, sizeof content) == 0);
            miosa_bytes_free(&back);
            CHECK(back.data == NULL && back.len == 0);
        }
    }

    /* Positional form: the buffer takes the content's place in the array. */
    s = miosa_call_upload(c, MIOSA_OP_SANDBOX_FILES_WRITE, "[\"sbx_fixture\", \"/workspace/two.bin\"]", NULL,
                          (const uint8_t *)"\0\x01\x02", 3, &out, &err);
    if (EXPECT_OK(s, err, "miosa_call_upload (positional)")) {
        miosa_string_free(out);
        miosa_bytes back = {0};
        s = miosa_call_bytes(c, MIOSA_OP_SANDBOX_FILES_READ, "{\"id\": \"sbx_fixture\", \"path\": \"/workspace/two.bin\"}",
                             NULL, &back, &err);
        if (EXPECT_OK(s, err, "miosa_call_bytes (two.bin)")) {
            CHECK(back.len == 3 && memcmp(back.data, "\0\x01\x02", 3) == 0);
            miosa_bytes_free(&back);
        }
    }

    /* A PNG screenshot is bytes too. */
    miosa_bytes png = {0};
    s = miosa_call_bytes(c, MIOSA_OP_DESKTOP_SCREENSHOT, "[\"cmp_fixture\"]", NULL, &png, &err);
    if (EXPECT_OK(s, err, "desktop.screenshot")) {
        CHECK(png.len > 8 && memcmp(png.data, "\x89PNG\r\n\x1a\n", 8) == 0);
        miosa_bytes_free(&png);
    }
    miosa_client_free(c);
}
