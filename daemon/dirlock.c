/*
 * dirlock.c: the exclusive lock on the data directory (see dirlock.h).
 * flock, not fcntl locks: LMDB does not use flock on its own files, and a
 * flock belongs to the open file, not to the process, so nothing else in
 * the daemon can drop it by closing another descriptor of the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirlock.h"
#include "log.h"

#define DIRLOCK_FILE "lock"

struct dirlock {
	int fd;
	char path[4200];
};

/* The pid written in the lock file fd, or 0 if it holds none. */
static long
dirlock_holder(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	char *end;
	long pid;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	return end != buf && (*end == '\n' || *end == '\0') && pid > 0 ? pid
	                                                               : 0;
}

/* *out is the caller's on success. */
int
dirlock_take(const char *dir, const char *where, struct dirlock **out)
{
	char path[4200], pid[32];
	struct dirlock *l;
	long holder;
	int fd, n;

	*out = NULL;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		fprintf(stderr, "%s: cannot create \"%s\": %s\n", where, dir,
		    strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, DIRLOCK_FILE);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		fprintf(stderr, "%s: cannot open the lock file \"%s\": %s\n",
		    where, path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK) {
			holder = dirlock_holder(fd);
			if (holder > 0)
				fprintf(stderr,
				    "%s: \"%s\" is in use by another cdhtd "
				    "(pid %ld holds %s): stop it first, or "
				    "give this node its own data_dir\n",
				    where, dir, holder, path);
			else
				fprintf(stderr,
				    "%s: \"%s\" is in use by another process "
				    "(it holds %s): stop it first, or give "
				    "this node its own data_dir\n",
				    where, dir, path);
		} else
			fprintf(stderr, "%s: cannot lock \"%s\": %s\n", where,
			    path, strerror(errno));
		close(fd);
		return -1;
	}
	n = snprintf(
	    pid, sizeof(pid), "%ld\n" DIRLOCK_BACKUP_MARK "\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		fprintf(stderr, "%s: cannot write the lock file \"%s\": %s\n",
		    where, path, strerror(errno));
		close(fd);
		return -1;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		fprintf(stderr, "%s: out of memory\n", where);
		close(fd);
		return -1;
	}
	l->fd = fd;
	memcpy(l->path, path, sizeof(l->path));
	*out = l;
	return 0;
}

void
dirlock_release(struct dirlock **lp)
{
	struct dirlock *l;

	if (lp == NULL || (l = *lp) == NULL)
		return;
	/* the pid would be stale: a later reader finds none (best effort:
	 * the lock itself goes with the descriptor) */
	if (ftruncate(l->fd, 0) != 0)
		log_warn("cannot empty %s", l->path);
	close(l->fd);
	free(l);
	*lp = NULL;
}
