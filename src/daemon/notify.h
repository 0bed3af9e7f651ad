/* SPDX-License-Identifier: Apache-2.0 */
/* notify: tells the service manager how the daemon stands (systemd's sd_notify protocol, for a
 * Type=notify unit): ready once the workers serve, reloading around SIGHUP, stopping. Built
 * without libsystemd (configure --without-systemd, or no libsystemd found) every call does
 * nothing, as sd_notify itself does when NOTIFY_SOCKET is unset. */
#ifndef HG_NOTIFY_H
#define HG_NOTIFY_H

/* READY=1 with MAINPID: the master's pid, since a service manager that started a detaching
 * daemon would otherwise watch the wrong process. */
void notify_ready(void);

/* RELOADING=1: from now until the next notify_ready the configuration is being replaced. */
void notify_reloading(void);

/* STOPPING=1: the shutdown has begun. */
void notify_stopping(void);

#endif
