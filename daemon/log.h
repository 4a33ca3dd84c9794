/*
 * log.h: logging to stderr (systemd captures it), OpenBSD-daemon vocabulary:
 * log_warn appends strerror(errno), log_warnx does not; fatal/fatalx exit(1)
 * and are for set-up only: at run time log and degrade.
 */
#ifndef CDHT_LOG_H
#define CDHT_LOG_H

#include <stdarg.h>
#include <stdint.h>

void log_init(int verbose);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
_Noreturn void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* The monotonic clock (CLOCK_MONOTONIC) in milliseconds; returns a plain
 * value, nothing to own. */
int64_t log_now_ms(void);

/*
 * A warning rate limiter: at most LOG_RATELIMIT_MAX warnings per
 * LOG_RATELIMIT_WINDOW_MS window of log_now_ms(), then a count of the rest.
 * Zero-initialise it and set what (borrowed, must outlive the limiter),
 * which names the warnings in the count.
 */
#define LOG_RATELIMIT_MAX       10
#define LOG_RATELIMIT_WINDOW_MS 60000
struct log_ratelimit {
	int64_t start; /* log_now_ms() when the window opened */
	unsigned n, suppressed;
	const char *what;
};

/*
 * 1 if the caller may log one more warning now, 0 if it must stay silent.
 * When a window with suppressed warnings is over, first logs "N similar
 * warnings suppressed (what)".  rl is borrowed; nothing is returned to own.
 */
int log_ratelimit_ok(struct log_ratelimit *rl);

#endif
