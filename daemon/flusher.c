/*
 * flusher.c: the fdatasync thread (flusher.h).  The loop and the thread
 * share one request under a mutex; the thread also writes one byte into a
 * pipe per flush ended, which flusher_end reads back, so the loop's event
 * on flusher_fd fires exactly once per flush.  The thread blocks every
 * signal: they stay the loop's.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "flusher.h"
#include "log.h"

struct flusher {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv_req;  /* the loop -> the thread: a request, quit */
	pthread_cond_t cv_done; /* the thread -> flusher_wait */
	int fd;                 /* to flush; -1: none requested */
	int done;               /* the flush requested has ended */
	int err;                /* its errno, 0 if it succeeded */
	int quit;
	int busy;    /* the loop's own: started, not yet ended (no lock) */
	int pipe[2]; /* [0] the loop's end, [1] the thread's */
};

static void *
run(void *arg)
{
	struct flusher *f = arg;

	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (f->fd < 0 && !f->quit)
			pthread_cond_wait(&f->cv_req, &f->mu);
		if (f->fd < 0)
			break; /* quit with nothing requested */
		int fd = f->fd, err;

		pthread_mutex_unlock(&f->mu);
		err = fdatasync(fd) == 0 ? 0 : errno;
		pthread_mutex_lock(&f->mu);
		f->fd = -1;
		f->err = err;
		f->done = 1;
		pthread_cond_broadcast(&f->cv_done);
		pthread_mutex_unlock(&f->mu);
		/* a full pipe cannot happen: one byte per flush, read back
		 * before the next starts */
		while (write(f->pipe[1], "x", 1) < 0 && errno == EINTR)
			;
		pthread_mutex_lock(&f->mu);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

int
flusher_new(struct flusher **out)
{
	struct flusher *f = calloc(1, sizeof(*f));
	sigset_t all, old;
	int rc;

	*out = NULL;
	if (f == NULL) {
		log_warnx("flusher: out of memory");
		return -1;
	}
	f->fd = -1;
	if (pipe2(f->pipe, O_CLOEXEC) != 0) {
		log_warn("flusher: pipe");
		free(f);
		return -1;
	}
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv_req, NULL);
	pthread_cond_init(&f->cv_done, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&f->thread, NULL, run, f);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		log_warn("flusher: thread");
		close(f->pipe[0]);
		close(f->pipe[1]);
		pthread_mutex_destroy(&f->mu);
		pthread_cond_destroy(&f->cv_req);
		pthread_cond_destroy(&f->cv_done);
		free(f);
		return -1;
	}
	*out = f;
	return 0;
}

void
flusher_free(struct flusher **fp)
{
	struct flusher *f;

	if (fp == NULL || (f = *fp) == NULL)
		return;
	if (f->busy)
		flusher_end(f);
	pthread_mutex_lock(&f->mu);
	f->quit = 1;
	pthread_cond_signal(&f->cv_req);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->thread, NULL);
	close(f->pipe[0]);
	close(f->pipe[1]);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv_req);
	pthread_cond_destroy(&f->cv_done);
	free(f);
	*fp = NULL;
}

void
flusher_start(struct flusher *f, int fd)
{
	pthread_mutex_lock(&f->mu);
	f->fd = fd;
	f->done = 0;
	f->err = 0;
	pthread_cond_signal(&f->cv_req);
	pthread_mutex_unlock(&f->mu);
	f->busy = 1;
}

int
flusher_busy(const struct flusher *f)
{
	return f->busy;
}

void
flusher_wait(struct flusher *f)
{
	if (!f->busy)
		return;
	pthread_mutex_lock(&f->mu);
	while (!f->done)
		pthread_cond_wait(&f->cv_done, &f->mu);
	pthread_mutex_unlock(&f->mu);
}

int
flusher_end(struct flusher *f)
{
	char c;
	int err;

	flusher_wait(f);
	pthread_mutex_lock(&f->mu);
	err = f->err;
	pthread_mutex_unlock(&f->mu);
	/* the byte follows done at once: this read waits for it at most */
	while (read(f->pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	f->busy = 0;
	return err;
}

int
flusher_fd(const struct flusher *f)
{
	return f->pipe[0];
}
