/*
 * log.c: leveled logging to stderr, with syslog-style priority prefixes
 * ("<4>") only when stderr is the journal (JOURNAL_STREAM names its device
 * and inode, as systemd sets it): plain lines on a terminal or in a file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int log_verbose;
static int log_prefix; /* stderr is the journal */

/* Whether JOURNAL_STREAM ("DEV:INO") is the file stderr writes to. */
static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat sb;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &sb) != 0)
		return 0;
	return (unsigned long long)sb.st_dev == dev &&
	       (unsigned long long)sb.st_ino == ino;
}

void
log_init(int verbose)
{
	log_verbose = verbose;
	log_prefix = stderr_is_journal();
	setvbuf(stderr, NULL, _IOLBF, 0);
}

/* prio is an sd-daemon prefix ("<4>" = warning) that journald understands. */
static void
vlog(const char *prio, const char *fmt, va_list ap, const char *err)
{
	if (log_prefix)
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
