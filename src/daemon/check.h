/* SPDX-License-Identifier: Apache-2.0 */
/* check: the start-up checks that need neither a socket nor the database — the configuration
 * file, the secret key file and the TLS files. "hookgated -t" runs them alone; the master runs
 * the file checks before it binds, so that a bad file fails with one line, not a crash loop. */
#ifndef HG_CHECK_H
#define HG_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"

/* The secret key file and, when configured, the TLS certificate and key; err says which. */
bool check_files(const struct hg_config *cfg, char *err, size_t errlen);

/* "hookgated -t": loads path and checks its files; prints "configuration ok" on stdout or
 * "hookgated: reason" on stderr. Returns the exit status (0 or 1). Never binds a listener. */
int check_config_main(const char *path);

#endif
