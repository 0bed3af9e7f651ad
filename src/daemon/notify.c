/* SPDX-License-Identifier: Apache-2.0 */
/* notify: see notify.h. */
#include "daemon/notify.h"

#ifdef HAVE_SYSTEMD
#include "core/log.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

/* A failed notification is worth a line but never stops the daemon: the manager then times
 * the start or reload out and says so itself. sd_notify returns 0 when NOTIFY_SOCKET is
 * unset, i.e. when no manager listens. */
static void notify_send(const char *what, int rc)
{
	if (rc < 0)
		log_warn("cannot notify the service manager (%s): %s", what, strerror(-rc));
}

void notify_ready(void)
{
	notify_send("READY=1", sd_notifyf(0, "READY=1\nMAINPID=%lu", (unsigned long)getpid()));
}

/* MONOTONIC_USEC lets a Type=notify-reload manager (systemd 253 and later) match this
 * RELOADING=1 to the reload it asked for; older managers ignore it. */
void notify_reloading(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	unsigned long long usec =
		(unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000;
	notify_send("RELOADING=1", sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", usec));
}

void notify_stopping(void)
{
	notify_send("STOPPING=1", sd_notify(0, "STOPPING=1"));
}

#else /* without libsystemd: nothing listens, nothing to say */

void notify_ready(void)
{
}

void notify_reloading(void)
{
}

void notify_stopping(void)
{
}

#endif
