/*
 * slow_fsync.c: an LD_PRELOAD library for the benchmark suite's A/B runs
 * (ab.py --slow-fsync-us): fdatasync and fsync do their work, then sleep
 * CDHT_BENCH_FSYNC_US microseconds (default 600), as a slow disk's flush
 * would keep the caller waiting without using a CPU.  Also preloaded by
 * tests/system/test_durability.py (its slow disk).
 */
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long
delay_ns(void)
{
	static long ns = -1;
	const char *s;

	if (ns < 0) {
		s = getenv("CDHT_BENCH_FSYNC_US");
		ns = (s != NULL ? atol(s) : 600) * 1000;
	}
	return ns;
}

static int
slow(long nr, int fd)
{
	int rc = (int)syscall(nr, fd);
	struct timespec ts = {delay_ns() / 1000000000, delay_ns() % 1000000000};

	nanosleep(&ts, NULL);
	return rc;
}

int
fdatasync(int fd)
{
	return slow(SYS_fdatasync, fd);
}

int
fsync(int fd)
{
	return slow(SYS_fsync, fd);
}
