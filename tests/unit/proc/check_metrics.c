/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of proc/metrics.c and proc/metrics_text.c: counts summed over forked processes'
 * slots, a dead process's slot taken over with its counters, and the text format's lines. */
#include "suites.h"

#include "proc/metrics.h"
#include "proc/metrics_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const role_names[] = { "webhook worker", "admin worker" };
static const struct metrics_labels labels = { "9.9.9", role_names, 2, "gw-a" };

static char *render(const struct metrics_totals *t)
{
	size_t len = 0;
	char *text = metrics_text(t, &labels, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(strlen(text), len);
	return text;
}

static void assert_line(const char *text, const char *line)
{
	char *want = malloc(strlen(line) + 3);
	ck_assert_ptr_nonnull(want);
	sprintf(want, "\n%s\n", line);
	ck_assert_msg(strstr(text, want) != NULL, "missing line: %s", line);
	free(want);
}

/* In a child: attach, count, exit (its slot keeps the counts). */
static void child_counts(struct metrics *m, int calls)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (!metrics_attach(m))
			_exit(2);
		for (int i = 0; i < calls; i++)
			metrics_call(METRICS_MODULE_CHANNEL, 204, NULL);
		metrics_gauge_set(METRICS_GAUGE_CALLS_IN_FLIGHT, 7);
		_exit(0);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

START_TEST(test_sum_over_processes)
{
	struct metrics *m = metrics_create(2); /* the parent's and one more */
	ck_assert_ptr_nonnull(m);
	ck_assert(metrics_attach(m));
	metrics_call(METRICS_MODULE_BOT_INCOMING, 401, "token_invalid");
	metrics_gauge_set(METRICS_GAUGE_CALLS_IN_FLIGHT, 1);
	child_counts(m, 3);
	child_counts(m, 4); /* takes the dead child's slot over: there is no other */
	struct metrics_totals t;
	metrics_sum(m, &t);
	ck_assert_uint_eq(t.calls[METRICS_MODULE_CHANNEL][0], 7);
	ck_assert_uint_eq(t.calls[METRICS_MODULE_BOT_INCOMING][2], 1);
	/* The dead children's gauges are not summed; the parent's is. */
	ck_assert_int_eq(t.gauges[METRICS_GAUGE_CALLS_IN_FLIGHT], 1);
	metrics_destroy(m);
}
END_TEST

START_TEST(test_text_lines)
{
	struct metrics *m = metrics_create(1);
	ck_assert(metrics_attach(m));
	metrics_call(METRICS_MODULE_CHANNEL, 204, NULL);
	metrics_call(METRICS_MODULE_NONE, 401, "token_missing");
	metrics_call(METRICS_MODULE_EXTENSION, 418, "teapot");
	metrics_restart(1);
	metrics_observe(METRICS_HIST_BATCH_LATENCY, 700);     /* 0.7 ms: bucket 0.001 */
	metrics_observe(METRICS_HIST_BATCH_LATENCY, 2000000); /* 2 s: +Inf only */
	metrics_observe(METRICS_HIST_BATCH_SIZE, 3);
	metrics_fold(1500000);
	struct metrics_totals t;
	metrics_sum(m, &t);
	char *text = render(&t);
	assert_line(text, "# TYPE hookgate_calls_total counter");
	assert_line(text, "hookgate_calls_total{module=\"channel\",status=\"204\"} 1");
	assert_line(text, "hookgate_calls_total{module=\"none\",status=\"401\"} 1");
	assert_line(text, "hookgate_calls_total{module=\"extension\",status=\"other\"} 1");
	assert_line(text, "hookgate_refusals_total{code=\"token_missing\"} 1");
	assert_line(text, "hookgate_refusals_total{code=\"other\"} 1");
	assert_line(text, "hookgate_worker_restarts_total{role=\"admin worker\"} 1");
	assert_line(text, "hookgate_batch_duration_seconds_bucket{le=\"0.0005\"} 0");
	assert_line(text, "hookgate_batch_duration_seconds_bucket{le=\"0.001\"} 1");
	assert_line(text, "hookgate_batch_duration_seconds_bucket{le=\"1\"} 1");
	assert_line(text, "hookgate_batch_duration_seconds_bucket{le=\"+Inf\"} 2");
	assert_line(text, "hookgate_batch_duration_seconds_sum 2.000700");
	assert_line(text, "hookgate_batch_duration_seconds_count 2");
	assert_line(text, "hookgate_batch_size_bucket{le=\"4\"} 1");
	assert_line(text, "hookgate_batch_size_sum 3");
	assert_line(text, "hookgate_token_fold_lag_seconds 1.500000");
	assert_line(text, "hookgate_token_folds_total 1");
	assert_line(text, "hookgate_build_info{version=\"9.9.9\"} 1");
	assert_line(text, "hookgate_node_info{node=\"gw-a\"} 1");
	assert_line(text, "hookgate_pg_connections{state=\"down\"} 0");
	ck_assert_msg(strstr(text, "status=\"204\"} 0") == NULL, "zero series are left out");
	ck_assert(text[strlen(text) - 1] == '\n');
	free(text);
	metrics_destroy(m);
}
END_TEST

/* Without a region (hookgatectl, tests), counting is harmless and invisible. */
START_TEST(test_unattached)
{
	metrics_call(METRICS_MODULE_CHANNEL, 204, NULL);
	metrics_delivery("delivered", 1000);
	ck_assert_ptr_null(metrics_region());
	struct metrics_totals t;
	metrics_sum(NULL, &t);
	ck_assert_uint_eq(t.calls[METRICS_MODULE_CHANNEL][0], 0);
}
END_TEST

Suite *make_suite_metrics(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");
	tcase_add_test(tc, test_sum_over_processes);
	tcase_add_test(tc, test_text_lines);
	tcase_add_test(tc, test_unattached);
	suite_add_tcase(s, tc);
	return s;
}
