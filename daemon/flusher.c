/*
 * flusher.c: the flush thread (flusher.h).  The loop hands it a
 * descriptor under the mutex and signals; the thread runs fdatasync and
 * writes an eventfd, whose read event (priority 1, the HTTP and ZeroMQ
 * events' own) runs done on the loop.  The thread touches nothing but the
 * descriptor it was given and this struct's job fields.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "flusher.h"
#include "log.h"

#define FLUSHER_PRIORITY 1

struct flusher {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;      /* the thread waits for a job, or quit */
	pthread_cond_t done_cv; /* flusher_wait waits for the result */
	int fd;                 /* the job: fdatasync(fd); -1 none */
	int finished;           /* the job ran: err holds its outcome */
	int err;
	int quit;
	int busy; /* started, done not run yet (loop's own) */
	int efd;
	struct event *ev;
	void (*done)(void *, int);
	void *arg;
};

static void *
flusher_main(void *arg)
{
	struct flusher *f = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (f->fd < 0 && !f->quit)
			pthread_cond_wait(&f->cv, &f->mu);
		if (f->fd < 0)
			break; /* quit, and nothing to do */
		int fd = f->fd;
		pthread_mutex_unlock(&f->mu);
		int err = fdatasync(fd) != 0 ? errno : 0;
		pthread_mutex_lock(&f->mu);
		f->fd = -1;
		f->err = err;
		f->finished = 1;
		pthread_cond_signal(&f->done_cv);
		/* the loop may be blocked in flusher_wait instead: harmless */
		while (write(f->efd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* On the loop: collect the finished job, if any, and run done. */
static void
reap(struct flusher *f)
{
	int finished, err;

	pthread_mutex_lock(&f->mu);
	finished = f->finished;
	err = f->err;
	f->finished = 0;
	pthread_mutex_unlock(&f->mu);
	if (!finished || !f->busy)
		return;
	f->busy = 0;
	f->done(f->arg, err);
}

static void
flusher_ev(evutil_socket_t fd, short what, void *arg)
{
	uint64_t n;

	(void)what;
	while (read(fd, &n, sizeof(n)) < 0 && errno == EINTR)
		;
	reap(arg);
}

struct flusher *
flusher_new(
    struct event_base *base, void (*done)(void *arg, int err), void *arg)
{
	struct flusher *f = calloc(1, sizeof(*f));
	int rc;

	if (f == NULL)
		return NULL;
	f->fd = -1;
	f->done = done;
	f->arg = arg;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	pthread_cond_init(&f->done_cv, NULL);
	if ((f->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		log_warn("flusher: eventfd");
		goto fail;
	}
	f->ev = event_new(base, f->efd, EV_READ | EV_PERSIST, flusher_ev, f);
	if (f->ev != NULL) /* fails on a base without priorities: fine */
		(void)event_priority_set(f->ev, FLUSHER_PRIORITY);
	if (f->ev == NULL || event_add(f->ev, NULL) != 0) {
		log_warnx("flusher: cannot add its event");
		goto fail;
	}
	if ((rc = pthread_create(&f->th, NULL, flusher_main, f)) != 0) {
		log_warnx("flusher: pthread_create: %s", strerror(rc));
		goto fail;
	}
	return f;
fail:
	if (f->ev != NULL)
		event_free(f->ev);
	if (f->efd >= 0)
		close(f->efd);
	pthread_cond_destroy(&f->done_cv);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
	return NULL;
}

int
flusher_start(struct flusher *f, int fd)
{
	if (f->busy)
		return -1;
	pthread_mutex_lock(&f->mu);
	f->fd = fd;
	f->finished = 0;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	f->busy = 1;
	return 0;
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
	while (!f->finished)
		pthread_cond_wait(&f->done_cv, &f->mu);
	pthread_mutex_unlock(&f->mu);
	reap(f); /* the eventfd's count is read (and ignored) later */
}

void
flusher_free(struct flusher **fp)
{
	struct flusher *f;

	if (fp == NULL || (f = *fp) == NULL)
		return;
	flusher_wait(f);
	pthread_mutex_lock(&f->mu);
	f->quit = 1;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->th, NULL);
	event_free(f->ev);
	close(f->efd);
	pthread_cond_destroy(&f->done_cv);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
	*fp = NULL;
}
