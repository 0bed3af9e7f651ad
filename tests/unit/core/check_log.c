/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of core/log.c: a libpq message folded onto one line, control characters and bytes
 * that are not UTF-8 escaped, text and JSON lines (cJSON must read every JSON line, even one cut
 * to fit), the journald "<N>" prefix and its detection, and the rate limit of repeated lines. */
#include "runner.h"

#include "core/log.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

static const char *clean(const char *in)
{
	static char out[256];
	log_clean(out, sizeof(out), in);
	return out;
}

START_TEST(test_clean_folds_libpq_messages)
{
	ck_assert_str_eq(clean("connection to server at \"127.0.0.1\", port 1 failed: Connection "
			       "refused\n\tIs the server running on that host?\n"),
			 "connection to server at \"127.0.0.1\", port 1 failed: Connection refused "
			 "Is the server running on that host?");
	ck_assert_str_eq(clean("ERROR:  boom\r\nDETAIL:  x\n\n"), "ERROR:  boom DETAIL:  x");
	ck_assert_str_eq(clean("plain"), "plain");
	ck_assert_str_eq(clean("\n"), "");
}
END_TEST

START_TEST(test_clean_escapes_control_and_bad_bytes)
{
	ck_assert_str_eq(clean("a\tb\x1b[31mc\x7f"), "a\\x09b\\x1B[31mc\\x7F");
	ck_assert_str_eq(clean("caf\xc3\xa9 \xff\xc3"), "caf\xc3\xa9 \\xFF\\xC3");
	/* A forged second line stays on the first. */
	ck_assert_str_eq(clean("x\n2026-01-01T00:00:00.000Z [1] error master: forged"),
			 "x 2026-01-01T00:00:00.000Z [1] error master: forged");
}
END_TEST

START_TEST(test_clean_cuts_whole_escapes)
{
	char out[8];
	ck_assert_uint_eq(log_clean(out, sizeof(out), "abcd\x01zz"), 4);
	ck_assert_str_eq(out, "abcd");
	ck_assert_uint_eq(log_clean(out, sizeof(out), "abcdef\xc3\xa9"), 6);
	ck_assert_str_eq(out, "abcdef");
}
END_TEST

static const struct log_field access_fields[] = {
	{ "status", "204", false },
	{ "token", "tk_0123456789abcdef", true },
	{ "agent", "curl \"7\"", true },
};

static struct log_record record(const char *message)
{
	return (struct log_record){ "2026-12-05T05:14:51.380Z",
				    42,
				    LOG_LEVEL_WARN,
				    "webhook worker 1",
				    message,
				    access_fields,
				    3,
				    NULL };
}

START_TEST(test_render_text)
{
	char line[512];
	struct log_record rec = record("access: 127.0.0.1");
	size_t n = log_render(line, sizeof(line), LOG_FORMAT_TEXT, "", &rec);
	ck_assert_str_eq(line, "2026-12-05T05:14:51.380Z [42] warn webhook worker 1: access: "
			       "127.0.0.1 token=tk_0123456789abcdef agent=\"curl \\\"7\\\"\"\n");
	ck_assert_uint_eq(n, strlen(line));
}
END_TEST

START_TEST(test_render_journald_prefix)
{
	char line[512];
	struct log_record rec = record("m");
	rec.time = NULL;
	rec.nfields = 0;
	log_render(line, sizeof(line), LOG_FORMAT_TEXT, "<4>", &rec);
	ck_assert_str_eq(line, "<4>[42] warn webhook worker 1: m\n");
}
END_TEST

START_TEST(test_render_json)
{
	char line[512];
	struct log_record rec = record("say \"hi\" \\ \\x01");
	size_t n = log_render(line, sizeof(line), LOG_FORMAT_JSON, "", &rec);
	ck_assert_int_eq(line[n - 1], '\n');
	cJSON *obj = cJSON_Parse(line);
	ck_assert_ptr_nonnull(obj);
	ck_assert_str_eq(cJSON_GetObjectItem(obj, "time")->valuestring, "2026-12-05T05:14:51.380Z");
	ck_assert_str_eq(cJSON_GetObjectItem(obj, "level")->valuestring, "warn");
	ck_assert_str_eq(cJSON_GetObjectItem(obj, "role")->valuestring, "webhook worker 1");
	ck_assert_int_eq(cJSON_GetObjectItem(obj, "pid")->valueint, 42);
	ck_assert_str_eq(cJSON_GetObjectItem(obj, "message")->valuestring, "say \"hi\" \\ \\x01");
	/* Every field, also those a text line leaves to the message. */
	ck_assert_str_eq(cJSON_GetObjectItem(obj, "status")->valuestring, "204");
	ck_assert_str_eq(cJSON_GetObjectItem(obj, "agent")->valuestring, "curl \"7\"");
	cJSON_Delete(obj);
}
END_TEST

/* node.name: a member of a JSON line after the level; a text line stays as it was. */
START_TEST(test_render_node)
{
	char line[512];
	struct log_record rec = record("m");
	rec.nfields = 0;
	rec.node = "gw-a";
	log_render(line, sizeof(line), LOG_FORMAT_JSON, "", &rec);
	ck_assert_str_eq(line, "{\"time\":\"2026-12-05T05:14:51.380Z\",\"level\":\"warn\","
			       "\"node\":\"gw-a\",\"role\":\"webhook worker 1\",\"pid\":42,"
			       "\"message\":\"m\"}\n");
	log_render(line, sizeof(line), LOG_FORMAT_TEXT, "", &rec);
	ck_assert_str_eq(line, "2026-12-05T05:14:51.380Z [42] warn webhook worker 1: m\n");
}
END_TEST

START_TEST(test_render_json_cut_still_parses)
{
	char big[1500], line[300];
	memset(big, '"', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (size_t len = 64; len <= sizeof(line); len += 7) {
		struct log_record rec = record(big);
		size_t n = log_render(line, len, LOG_FORMAT_JSON, "<3>", &rec);
		ck_assert_uint_lt(n, len);
		line[n] = '\0';
		ck_assert_int_eq(line[n - 1], '\n');
		cJSON *obj = cJSON_Parse(line + 3);
		ck_assert_msg(obj != NULL, "cut at %zu: %s", len, line);
		cJSON_Delete(obj);
	}
}
END_TEST

START_TEST(test_journald_stream_detection)
{
	int fds[2];
	struct stat st;
	char env[64];

	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(fstat(fds[1], &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	ck_assert(log_journald_stream(fds[1], env));
	/* Another stream (stderr redirected to a file, say): the variable was inherited. */
	int other[2];
	ck_assert_int_eq(pipe(other), 0);
	ck_assert(!log_journald_stream(other[1], env));
	close(other[0]);
	close(other[1]);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + 1);
	ck_assert(!log_journald_stream(fds[1], env));
	ck_assert(!log_journald_stream(fds[1], NULL));
	ck_assert(!log_journald_stream(fds[1], "12"));
	ck_assert(!log_journald_stream(fds[1], "1:2x"));
	close(fds[0]);
	close(fds[1]);
}
END_TEST

START_TEST(test_parse_format_and_facility)
{
	enum log_format f;
	int fac;

	ck_assert(log_format_parse("json", &f) && f == LOG_FORMAT_JSON);
	ck_assert(log_format_parse("text", &f) && f == LOG_FORMAT_TEXT);
	ck_assert(!log_format_parse("JSON", &f));
	ck_assert(log_facility_parse("local7", &fac) && fac == LOG_LOCAL7);
	ck_assert(log_facility_parse("daemon", &fac) && fac == LOG_DAEMON);
	ck_assert(!log_facility_parse("local8", &fac));
	ck_assert(!log_facility_parse("kern", &fac));
}
END_TEST

START_TEST(test_limit)
{
	struct log_limit l = { .interval_ms = 1000 };
	uint64_t skipped = 99, units = 99;

	ck_assert(log_limit_pass(&l, 5000, 3, &skipped, &units));
	ck_assert_uint_eq(skipped, 0);
	ck_assert(!log_limit_pass(&l, 5500, 4, &skipped, &units));
	ck_assert(!log_limit_pass(&l, 5999, 5, &skipped, &units));
	ck_assert(log_limit_pass(&l, 6000, 1, &skipped, &units));
	ck_assert_uint_eq(skipped, 2);
	ck_assert_uint_eq(units, 9);
	ck_assert(!log_limit_pass(&l, 6001, 1, &skipped, &units));
}
END_TEST

/* Through a file: a JSON line per event, a multi-line message on one line, and a token in a
 * field value redacted like one in the message. */
START_TEST(test_json_file_lines)
{
	char path[] = "/tmp/hookgate-log-XXXXXX", text[8192];
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	const struct log_options opt = { .target = path,
					 .level = LOG_LEVEL_INFO,
					 .format = LOG_FORMAT_JSON };
	ck_assert(log_open(&opt));
	log_set_role("test");
	const struct log_field f[] = { { "token", "tk_0123456789abcdef", true },
				       { "path", "/x?zapikey=hgt_Hookgate0123456789abcdefXYZ2eun9i",
					 true },
				       { "none", NULL, true } };
	log_fields(LOG_LEVEL_INFO, f, 3, "first\nsecond");
	log_debug("not written");
	log_close();
	long n = take_file_text(path, text, sizeof(text));
	ck_assert_int_gt(n, 0);
	ck_assert_ptr_eq(strchr(text, '\n'), text + n - 1);
	cJSON *obj = cJSON_Parse(text);
	ck_assert_ptr_nonnull(obj);
	ck_assert_str_eq(cJSON_GetObjectItem(obj, "message")->valuestring, "first second");
	ck_assert_str_eq(cJSON_GetObjectItem(obj, "role")->valuestring, "test");
	ck_assert_str_eq(cJSON_GetObjectItem(obj, "token")->valuestring, "tk_0123456789abcdef");
	ck_assert_ptr_null(cJSON_GetObjectItem(obj, "none"));
	ck_assert_ptr_null(strstr(text, "Hookgate0123"));
	cJSON_Delete(obj);
}
END_TEST

Suite *make_suite_log(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");
	tcase_add_test(tc, test_clean_folds_libpq_messages);
	tcase_add_test(tc, test_clean_escapes_control_and_bad_bytes);
	tcase_add_test(tc, test_clean_cuts_whole_escapes);
	tcase_add_test(tc, test_render_text);
	tcase_add_test(tc, test_render_journald_prefix);
	tcase_add_test(tc, test_render_json);
	tcase_add_test(tc, test_render_json_cut_still_parses);
	tcase_add_test(tc, test_render_node);
	tcase_add_test(tc, test_journald_stream_detection);
	tcase_add_test(tc, test_parse_format_and_facility);
	tcase_add_test(tc, test_limit);
	tcase_add_test(tc, test_json_file_lines);
	suite_add_tcase(s, tc);
	return s;
}
