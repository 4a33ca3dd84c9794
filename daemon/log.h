/*
 * log.h: logging to stderr (systemd captures it), OpenBSD-daemon vocabulary:
 * log_warn appends strerror(errno), log_warnx does not; fatal/fatalx exit(1)
 * and are for set-up only: at run time log and degrade.
 */
#ifndef CDHT_LOG_H
#define CDHT_LOG_H

#include <stdarg.h>

void log_init(int verbose);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
_Noreturn void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif
