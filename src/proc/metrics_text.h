/* SPDX-License-Identifier: Apache-2.0 */
/* metrics_text: the Prometheus text exposition format 0.0.4 of a struct metrics_totals — the
 * names, help lines, types and labels of every metric hookgated exposes (docs/operations.md,
 * "Metrics"). Pure: no I/O, so the format is unit-tested on its own. */
#ifndef HG_METRICS_TEXT_H
#define HG_METRICS_TEXT_H

#include <stddef.h>

#include "proc/metrics.h"

/* The content type of the format. */
#define METRICS_TEXT_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics_labels {
	const char *version;	       /* hookgate_build_info's version label */
	const char *const *role_names; /* worker restarts: the role table's names, by index */
	int nroles;
	const char *node; /* hookgate_node_info's node label (node.name); NULL: no such series */
};

/* The whole page, NUL-terminated, in a malloc'd buffer (*len without the NUL); NULL when out
 * of memory. */
char *metrics_text(const struct metrics_totals *t, const struct metrics_labels *labels,
		   size_t *len);

#endif
