/* The test functions; each receives a fresh, running emulator. */
#ifndef MIOSA_TEST_TESTS_H
#define MIOSA_TEST_TESTS_H

#include "harness.h"

/* test_quickstart.c */
void test_first_request(const emulator *e);
void test_binary_round_trip(const emulator *e);

/* test_operations.c */
void test_every_operation(const emulator *e);

/* test_errors.c */
void test_error_classes(const emulator *e);
void test_retry_recovers(const emulator *e);
void test_webhook_signatures(const emulator *e);

/* test_streams.c */
void test_sse_stop_from_callback(const emulator *e);
void test_sse_runs_to_the_end(const emulator *e);
void test_sse_pull(const emulator *e);
void test_sse_errors(const emulator *e);
void test_pagination_walk(const emulator *e);
void test_page_numbered_walk(const emulator *e);

/* test_settings.c */
void test_settings_vectors(const emulator *e);
void test_call_option_vectors(const emulator *e);
void test_settings_from_the_environment(const emulator *e);
void test_retries_on_by_default(const emulator *e);
void test_null_reaches_the_wire(const emulator *e);

/* test_arguments.c */
void test_bad_arguments(const emulator *e);
void test_client_options(const emulator *e);
void test_threads(const emulator *e);

void test_socket_terminal(const emulator *e);
void test_socket_exec_exit_code(const emulator *e);
void test_socket_close_from_another_thread(const emulator *e);

/* test_reliability.c */
void test_rel_rate_limited(const emulator *e);
void test_rel_server_errors(const emulator *e);
void test_rel_payment_never_retried(const emulator *e);
void test_rel_create_once(const emulator *e);
void test_rel_connection_reset(const emulator *e);
void test_rel_stall_timeout(const emulator *e);
void test_rel_operation_timeout(const emulator *e);
void test_rel_stream_cut_five_times(const emulator *e);
void test_rel_stream_idle_timeout(const emulator *e);
void test_rel_stream_close_frees_connection(const emulator *e);

/* test_extra.c */
void test_streamed_exec_order(const emulator *e);
void test_multipart_round_trip(const emulator *e);

/* test_write_many.c */
void test_write_many_vectors(const emulator *e);

/* test_hostile.c */
void test_hostile_bodies(const emulator *e);
void test_hostile_timeouts(const emulator *e);
void test_hostile_streams(const emulator *e);
void test_hostile_close_and_cancel(const emulator *e);

/* test_abi.c */
void test_abi_struct_size(const emulator *e);
void test_abi_version_macros(const emulator *e);
void test_args_round_trip(const emulator *e);
void test_unknown_parameter_refused(const emulator *e);
void test_cancel_from_another_thread(const emulator *e);
void test_quiet_stream_ticks(const emulator *e);
/* test_log.c */
void test_log_callback(const emulator *e);

/* test_transfer.c */
void test_transfer_64_mib(const emulator *e);
void test_user_agent(const emulator *e);

/* test_watch.c */
void test_wait_states(const emulator *e);

#endif
