/* SPDX-License-Identifier: Apache-2.0 */
/* master: the hookgated master process (docs/operations.md) — start-up checks, the prefork of the
 * processes the role table asks for (roles.h), and the signal loop that reaps, respawns, reloads
 * and stops. */
#ifndef HG_MASTER_H
#define HG_MASTER_H

#include <stdbool.h>

/* Never returns on a start-up failure (prints one line and exits 1); otherwise returns the
 * exit status once the master has stopped. */
int master_run(const char *config_path, bool foreground);

#endif
