/*
 * flusher.h: one thread that runs fdatasync for the event loop, so the
 * loop parses and runs the next requests while the disk flushes the last
 * commit (commit.c).  One flush at a time; its outcome comes back on the
 * loop's thread, through the callback given to flusher_new.
 */
#ifndef CDHT_FLUSHER_H
#define CDHT_FLUSHER_H

#include <event2/event.h>

struct flusher;

/* done(arg, err) runs on base's thread after each flush: err 0, or the
 * errno of the failed fdatasync.  NULL if the thread or its event cannot
 * be made (logged).  Free with flusher_free. */
struct flusher *flusher_new(
    struct event_base *base, void (*done)(void *arg, int err), void *arg);
/* Start fdatasync(fd) on the thread.  0; or -1 if a flush is running. */
int flusher_start(struct flusher *f, int fd);
/* Whether a flush was started and its done has not run yet. */
int flusher_busy(const struct flusher *f);
/* Wait for the running flush, if any, and run its done now. */
void flusher_wait(struct flusher *f);
/* Wait for a running flush (its done runs), stop the thread, free *f;
 * NULL-tolerant.  Sets *f = NULL. */
void flusher_free(struct flusher **f);

#endif
