/* SPDX-License-Identifier: Apache-2.0 */
/* curl-floor: what one delivery's HTTP request costs at the least, with no PostgreSQL, no
 * signing, no event loop of ours — libcurl's multi interface alone, keep-alive connections and
 * reused easy handles, posting the body and headers a delivery carries to a local receiver.
 * bench/bench-delivery runs it beside the delivery runs: the CPU it reports per request (user
 * and system, this process only; the receiver's is measured by the script) is the floor under
 * what a delivery worker can cost.
 *
 *   curl-floor URL SECONDS CONCURRENCY
 *
 * prints one line: "requests N seconds S cpu_us_per_request C non2xx E". */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static const char BODY[] = "{\"text\":\"a message of about one hundred bytes, as the ingest "
			   "benchmark posts it, padded to size.....\"}";

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* A delivery's headers, built per request as the worker builds them (the id and the time
 * change per message). */
static struct curl_slist *headers_for(unsigned long seq)
{
	char line[160];
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	snprintf(line, sizeof line, "webhook-id: msg_%lu_floor", seq);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof line, "webhook-timestamp: %ld", (long)time(NULL));
	h = curl_slist_append(h, line);
	h = curl_slist_append(h,
			      "webhook-signature: v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=");
	h = curl_slist_append(h, "hookgate-module: channel");
	h = curl_slist_append(h, "hookgate-target: bench01");
	h = curl_slist_append(h, "hookgate-token-id: 1234567890123456789");
	h = curl_slist_append(h, "User-Agent: hookgate/floor");
	return curl_slist_append(h, "Expect:");
}

static void start(CURLM *m, CURL *e, const char *url, unsigned long seq)
{
	struct curl_slist *old = NULL;
	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&old);
	curl_slist_free_all(old);
	struct curl_slist *h = headers_for(seq);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, BODY);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(sizeof BODY - 1));
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)h);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_multi_add_handle(m, e);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: curl-floor URL SECONDS CONCURRENCY\n");
		return 2;
	}
	const char *url = argv[1];
	double seconds = atof(argv[2]);
	int conc = atoi(argv[3]);
	if (seconds <= 0 || conc <= 0 || conc > 1024 || curl_global_init(CURL_GLOBAL_DEFAULT))
		return 2;
	CURLM *m = curl_multi_init();
	CURL **easy = calloc((size_t)conc, sizeof *easy);
	unsigned long seq = 0, done = 0, bad = 0;
	for (int i = 0; i < conc; i++) {
		easy[i] = curl_easy_init();
		start(m, easy[i], url, seq++);
	}
	double t0 = now_s(), c0 = cpu_s(), end = t0 + seconds;
	int running = conc;
	while (running > 0) {
		curl_multi_perform(m, &running);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(m, &left))) {
			CURL *e = msg->easy_handle;
			long code = 0;
			curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
			done++;
			bad += msg->data.result != CURLE_OK || code < 200 || code > 299;
			curl_multi_remove_handle(m, e);
			if (now_s() < end) {
				start(m, e, url, seq++);
				running++;
			}
		}
		if (running > 0)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	double secs = now_s() - t0, cpu = cpu_s() - c0;
	printf("requests %lu seconds %.2f cpu_us_per_request %.1f non2xx %lu\n", done, secs,
	       done ? cpu * 1e6 / (double)done : 0.0, bad);
	for (int i = 0; i < conc; i++) {
		struct curl_slist *h = NULL;
		curl_easy_getinfo(easy[i], CURLINFO_PRIVATE, (char **)&h);
		curl_slist_free_all(h);
		curl_easy_cleanup(easy[i]);
	}
	free(easy);
	curl_multi_cleanup(m);
	curl_global_cleanup();
	return bad ? 1 : 0;
}
