/* SPDX-License-Identifier: Apache-2.0 */
/* schedule: retry delays, status classes and Retry-After (see schedule.h). */
#include "delivery/schedule.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)

/* The delay before attempt i + 1: the schedule the requirements fix (attempt 1 at once). */
static const int64_t schedule_table[SCHEDULE_ATTEMPTS] = {
	0,	  5 * SEC,   5 * MIN,	30 * MIN,  2 * HOUR,
	5 * HOUR, 10 * HOUR, 14 * HOUR, 20 * HOUR, 24 * HOUR,
};

int64_t schedule_delay_ms(int attempt_done, uint32_t rnd)
{
	int64_t base, spread, offset;

	if (attempt_done < 0 || attempt_done >= SCHEDULE_ATTEMPTS)
		return -1;
	base = schedule_table[attempt_done];
	/* rnd scaled onto [-spread, +spread] without a modulo bias; 2 * spread + 1 is below 2^26,
	 * so the product stays far inside 64 bits. */
	spread = base / 5;
	offset = (int64_t)(((uint64_t)rnd * (uint64_t)(2 * spread + 1)) >> 32) - spread;
	return base + offset;
}

enum delivery_class schedule_classify(long http_status)
{
	if (http_status >= 200 && http_status <= 299)
		return DELIVERY_DELIVERED;
	if (http_status == 410)
		return DELIVERY_GONE;
	if (http_status == 429 || http_status == 502 || http_status == 503 || http_status == 504)
		return DELIVERY_SLOW_DOWN;
	return DELIVERY_FAILED;
}

/* Exactly n decimal digits at s. */
static bool schedule_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Index of the three letters at s in names (case-sensitive, as the grammar is), or -1. */
static int schedule_name(const char *s, const char *const *names, int count)
{
	for (int i = 0; i < count; i++) {
		if (strncmp(s, names[i], 3) == 0)
			return i;
	}
	return -1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t schedule_days(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int schedule_month_days(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 5.6.7), into unix milliseconds. The
 * obsolete RFC 850 and asctime forms are not read: a sender must not generate them. */
static bool schedule_http_date(const char *s, int64_t *out_ms)
{
	static const char *const wkday[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	static const char *const month[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	int day, mon, year, hh, mm, ss;

	if (strlen(s) != 29 || schedule_name(s, wkday, 7) < 0 || strncmp(s + 3, ", ", 2) != 0 ||
	    s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || s[19] != ':' || s[22] != ':' ||
	    strcmp(s + 25, " GMT") != 0)
		return false;
	mon = schedule_name(s + 8, month, 12) + 1;
	if (mon == 0 || !schedule_digits(s + 5, 2, &day) || !schedule_digits(s + 12, 4, &year) ||
	    !schedule_digits(s + 17, 2, &hh) || !schedule_digits(s + 20, 2, &mm) ||
	    !schedule_digits(s + 23, 2, &ss))
		return false;
	if (day < 1 || day > schedule_month_days(year, mon) || hh > 23 || mm > 59 || ss > 60)
		return false;
	*out_ms =
		((schedule_days(year, mon, day) * 24 + hh) * 60 + mm) * 60000 + ss * INT64_C(1000);
	return true;
}

/* delay-seconds: digits only. A value too large for us is still a valid (long) wait, so it
 * saturates instead of failing; the clamp brings it down. */
static bool schedule_seconds(const char *s, int64_t *out_ms)
{
	int64_t v = 0;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v < INT64_MAX / 10000)
			v = v * 10 + (*s - '0');
	}
	*out_ms = v < INT64_MAX / 1000 ? v * 1000 : INT64_MAX;
	return true;
}

int64_t schedule_retry_after_ms(const char *header, int64_t now_ms, int64_t max_ms)
{
	char value[64];
	size_t start = 0, end;
	int64_t wait, at;

	if (header == NULL)
		return -1;
	/* Optional white space around the field value (and a line end a caller left on it). */
	end = strlen(header);
	while (start < end && strchr(" \t", header[start]) != NULL)
		start++;
	while (end > start && strchr(" \t\r\n", header[end - 1]) != NULL)
		end--;
	if (end == start || end - start >= sizeof(value))
		return -1;
	memcpy(value, header + start, end - start);
	value[end - start] = '\0';
	if (schedule_http_date(value, &at))
		wait = at > now_ms ? at - now_ms : 0;
	else if (!schedule_seconds(value, &wait))
		return -1;
	if (wait > max_ms)
		wait = max_ms;
	return wait < 1000 ? 1000 : wait;
}
