/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fsync-probe: how long this machine's disk takes to make a small write durable, while a
 * benchmark runs. Every INTERVAL_MS it writes 8 KiB into a preallocated file in DIR and calls
 * fdatasync(), as PostgreSQL does for a WAL flush, and times the pair. At the end it prints one
 * line: the number of flushes, their median, p99 and maximum, how many took over 20 ms, and
 * the time those slow ones took in all.
 *
 *   fsync-probe DIR SECONDS [INTERVAL_MS]
 *
 * hookgate answers 2xx only after PostgreSQL's flush, so a flush that stalls holds every call
 * in flight for as long: bench/bench-ingest runs this beside each measured run to tell such
 * stalls of the disk apart from hookgate's own latency. A benchmark helper, not installed.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { BLOCK = 8192, FILE_BLOCKS = 128, SLOW_US = 20000 };

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

static long parse_positive(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return errno || *end || end == s || v < 1 || v > max ? -1 : v;
}

/* The file is written whole and flushed first: a flush later has no block to allocate and no
 * size to record, so each one times the data write alone, as a WAL segment's flush would. */
static int open_probe_file(const char *dir, char *path, size_t len, const char *block)
{
	int fd;

	snprintf(path, len, "%s/fsync-probe.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	for (int i = 0; i < FILE_BLOCKS; i++)
		if (write(fd, block, BLOCK) != BLOCK)
			goto fail;
	if (fsync(fd) == 0)
		return fd;
fail:
	close(fd);
	unlink(path);
	return -1;
}

static void report(long long *lat, long n)
{
	long long slow_total = 0;
	long slow = 0;

	if (n == 0) {
		printf("fsync: ops=0\n");
		return;
	}
	qsort(lat, (size_t)n, sizeof *lat, cmp_ll);
	for (long i = 0; i < n; i++)
		if (lat[i] > SLOW_US) {
			slow++;
			slow_total += lat[i];
		}
	printf("fsync: ops=%ld p50_us=%lld p99_us=%lld max_us=%lld slow=%ld slow_ms=%lld\n", n,
	       lat[n / 2], lat[(n * 99) / 100], lat[n - 1], slow, slow_total / 1000);
}

int main(int argc, char **argv)
{
	static char block[BLOCK];
	char path[4096];
	long secs, interval_ms = 10, n = 0, cap;
	long long *lat, end, next, step;
	int fd, rc = 0;

	if (argc < 3 || argc > 4 || (secs = parse_positive(argv[2], 86400)) < 0 ||
	    (argc == 4 && (interval_ms = parse_positive(argv[3], 60000)) < 0)) {
		fprintf(stderr, "usage: fsync-probe DIR SECONDS [INTERVAL_MS]\n");
		return 2;
	}
	memset(block, 'p', sizeof block);
	fd = open_probe_file(argv[1], path, sizeof path, block);
	if (fd < 0) {
		fprintf(stderr, "fsync-probe: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	step = interval_ms * 1000LL;
	/* Stalls make flushes fewer, never more, than one per interval. */
	cap = secs * 1000 / interval_ms + 2;
	lat = calloc((size_t)cap, sizeof *lat);
	if (!lat) {
		close(fd);
		unlink(path);
		return 1;
	}
	end = now_us() + secs * 1000000LL;
	for (next = now_us(); next < end && n < cap; next += step) {
		long long t0 = now_us(), wait = next - t0, done;

		if (wait > 0) {
			struct timespec ts = { wait / 1000000, (wait % 1000000) * 1000 };

			nanosleep(&ts, NULL);
			t0 = now_us();
		}
		if (pwrite(fd, block, BLOCK, (off_t)(n % FILE_BLOCKS) * BLOCK) != BLOCK ||
		    fdatasync(fd) != 0) {
			fprintf(stderr, "fsync-probe: %s: %s\n", path, strerror(errno));
			rc = 1;
			break;
		}
		done = now_us();
		lat[n++] = done - t0;
		/* After a stall, go on from now: no burst of the flushes it held up. */
		if (done > next + step)
			next = done - step;
	}
	close(fd);
	unlink(path);
	report(lat, n);
	free(lat);
	return rc;
}
