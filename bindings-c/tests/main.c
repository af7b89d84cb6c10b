/*
 * The C suite: every test gets a fresh miosa-emulator on loopback and talks
 * to it through libmiosa exactly as a C program would. The last line is
 * "N passed, N failed"; the exit status is non-zero when anything failed.
 *
 *   ./miosa_tests            run everything
 *   ./miosa_tests NAME...    run the named tests only
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "tests.h"

typedef struct {
    const char *name;
    void (*fn)(const emulator *e);
} test_case;

static const test_case TESTS[] = {
    {"first_request", test_first_request},
    {"every_operation", test_every_operation},
    {"error_classes", test_error_classes},
    {"retry_recovers", test_retry_recovers},
    {"sse_stop_from_callback", test_sse_stop_from_callback},
    {"sse_runs_to_the_end", test_sse_runs_to_the_end},
    {"sse_pull", test_sse_pull},
    {"sse_errors", test_sse_errors},
    {"pagination_walk", test_pagination_walk},
    {"page_numbered_walk", test_page_numbered_walk},
    {"bad_arguments", test_bad_arguments},
    {"client_options", test_client_options},
    {"settings_vectors", test_settings_vectors},
    {"call_option_vectors", test_call_option_vectors},
    {"settings_from_the_environment", test_settings_from_the_environment},
    {"retries_on_by_default", test_retries_on_by_default},
    {"null_reaches_the_wire", test_null_reaches_the_wire},
    {"binary_round_trip", test_binary_round_trip},
    {"write_many_vectors", test_write_many_vectors},
    {"threads", test_threads},
    {"webhook_signatures", test_webhook_signatures},
    {"rel_rate_limited", test_rel_rate_limited},
    {"rel_server_errors", test_rel_server_errors},
    {"rel_payment_never_retried", test_rel_payment_never_retried},
    {"rel_create_once", test_rel_create_once},
    {"rel_connection_reset", test_rel_connection_reset},
    {"rel_stall_timeout", test_rel_stall_timeout},
    {"rel_operation_timeout", test_rel_operation_timeout},
    {"rel_stream_cut_five_times", test_rel_stream_cut_five_times},
    {"rel_stream_idle_timeout", test_rel_stream_idle_timeout},
    {"rel_stream_close_frees_connection", test_rel_stream_close_frees_connection},
    {"hostile_bodies", test_hostile_bodies},
    {"hostile_timeouts", test_hostile_timeouts},
    {"hostile_streams", test_hostile_streams},
    {"hostile_close_and_cancel", test_hostile_close_and_cancel},
    {"abi_struct_size", test_abi_struct_size},
    {"abi_version_macros", test_abi_version_macros},
    {"args_round_trip", test_args_round_trip},
    {"unknown_parameter_refused", test_unknown_parameter_refused},
    {"cancel_from_another_thread", test_cancel_from_another_thread},
    {"quiet_stream_ticks", test_quiet_stream_ticks},
    {"log_callback", test_log_callback},
    {"transfer_64_mib", test_transfer_64_mib},
    {"user_agent", test_user_agent},
    {"wait_states", test_wait_states},
    {"streamed_exec_order", test_streamed_exec_order},
    {"multipart_round_trip", test_multipart_round_trip},
    {"socket_terminal", test_socket_terminal},
    {"socket_exec_exit_code", test_socket_exec_exit_code},
    {"socket_close_from_another_thread", test_socket_close_from_another_thread},
};

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int selected(int argc, char **argv, const char *name) {
    if (argc <= 1) {
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    int passed = 0, failed = 0;
    double start = now_ms();
    /* Line-buffered, so every line is out before a sanitizer report ends the process. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("libmiosa %s\n", miosa_version());
    for (size_t i = 0; i < sizeof TESTS / sizeof TESTS[0]; i++) {
        if (!selected(argc, argv, TESTS[i].name)) {
            continue;
        }
        emulator e;
        double t0 = now_ms();
        int before = test_failures();
        if (emulator_start(&e) != 0) {
            check_fail(__FILE__, __LINE__, "%s: the emulator did not start", TESTS[i].name);
        } else {
            TESTS[i].fn(&e);
            emulator_stop(&e);
        }
        int ok = test_failures() == before;
        printf("%s - %s (%.0f ms)\n", ok ? "ok" : "FAIL", TESTS[i].name, now_ms() - t0);
        fflush(stdout);
        if (ok) {
            passed++;
        } else {
            failed++;
        }
    }
    printf("suite time %.1f s\n", (now_ms() - start) / 1e3);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
