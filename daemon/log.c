/* log.c: leveled logging to stderr with syslog-style priority prefixes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static int log_verbose;

void
log_init(int verbose)
{
	log_verbose = verbose;
	setvbuf(stderr, NULL, _IOLBF, 0);
}

/* prio is an sd-daemon prefix ("<4>" = warning) that journald understands. */
static void
vlog(const char *prio, const char *fmt, va_list ap, const char *err)
{
	fputs(prio, stderr);
	vfprintf(stderr, fmt, ap);
	if (err != NULL)
		fprintf(stderr, ": %s", err);
	fputc('\n', stderr);
}

#define LOG_FN(fn, prio, with_errno, cond)                                \
	void fn(const char *fmt, ...)                                     \
	{                                                                 \
		int saved = errno;                                        \
		va_list ap;                                               \
		if (!(cond))                                              \
			return;                                           \
		va_start(ap, fmt);                                        \
		vlog(prio, fmt, ap, with_errno ? strerror(saved) : NULL); \
		va_end(ap);                                               \
		errno = saved;                                            \
	}

LOG_FN(log_warn, "<4>", 1, 1)
LOG_FN(log_warnx, "<4>", 0, 1)
LOG_FN(log_info, "<6>", 0, 1)
LOG_FN(log_debug, "<7>", 0, log_verbose)

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog("<3>", fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("<3>", fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

/* A plain value: nothing to own. */
int64_t
log_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* rl is the caller's; returns a verdict, nothing to own. */
int
log_ratelimit_ok(struct log_ratelimit *rl)
{
	int64_t now = log_now_ms();

	if (now - rl->start >= LOG_RATELIMIT_WINDOW_MS) {
		if (rl->suppressed > 0)
			log_warnx("%u similar warnings suppressed (%s)",
			    rl->suppressed, rl->what != NULL ? rl->what : "?");
		rl->start = now;
		rl->n = 0;
		rl->suppressed = 0;
	}
	if (rl->n < LOG_RATELIMIT_MAX) {
		rl->n++;
		return 1;
	}
	rl->suppressed++;
	return 0;
}
