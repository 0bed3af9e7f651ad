/* Unit tests of http/server.c's pure parts: every status hookgate answers with has its reason
 * phrase. */
#include "suites.h"

#include "http/server.h"

#include <string.h>

/* Every status the code answers with: http.c's own refusals, the webhook and admin handlers'
 * (grep http_respond, admin_reply, call_fix and call_refuse) and those hookgate.ingest_batch()
 * decides (sql/). */
START_TEST(test_reasons)
{
	static const struct {
		int status;
		const char *reason;
	} emitted[] = {
		{ 100, "Continue" },
		{ 200, "OK" },
		{ 201, "Created" },
		{ 204, "No Content" },
		{ 301, "Moved Permanently" },
		{ 304, "Not Modified" },
		{ 400, "Bad Request" },
		{ 401, "Unauthorized" },
		{ 403, "Forbidden" },
		{ 404, "Not Found" },
		{ 405, "Method Not Allowed" },
		{ 408, "Request Timeout" },
		{ 409, "Conflict" },
		{ 411, "Length Required" },
		{ 413, "Content Too Large" },
		{ 415, "Unsupported Media Type" },
		{ 423, "Locked" },
		{ 429, "Too Many Requests" },
		{ 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" },
		{ 503, "Service Unavailable" },
	};
	for (size_t i = 0; i < sizeof(emitted) / sizeof(emitted[0]); i++)
		ck_assert_str_eq(http_status_reason(emitted[i].status), emitted[i].reason);
	/* the rest of RFC 9110 too; an unregistered status has none (RFC 9112 allows that) */
	for (int status = 100; status < 600; status++) {
		bool registered =
			(status >= 100 && status <= 101) || (status >= 200 && status <= 206) ||
			(status >= 300 && status <= 308 && status != 306) ||
			(status >= 400 && status <= 417) || status == 421 || status == 422 ||
			status == 423 || status == 426 || status == 428 || status == 429 ||
			status == 431 || (status >= 500 && status <= 505);
		ck_assert_msg((strlen(http_status_reason(status)) > 0) == registered, "status %d",
			      status);
	}
	ck_assert_str_eq(http_status_reason(0), "");
	ck_assert_str_eq(http_status_reason(999), "");
}
END_TEST

Suite *make_suite_http(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("status");
	tcase_add_test(tc, test_reasons);
	suite_add_tcase(s, tc);
	return s;
}
