/*
 * flusher.h: one thread that runs fdatasync off the event loop, so the
 * loop can read the next requests while a commit's journal record goes to
 * the disk (store.c starts flushes and ends them; commit.c watches
 * flusher_fd).  At most one flush runs at a time.
 */
#ifndef CDHT_FLUSHER_H
#define CDHT_FLUSHER_H

struct flusher;

/* Start the thread.  0 and *out (free with flusher_free), or -1 (logged). */
int flusher_new(struct flusher **out);
/* Wait for a running flush, stop the thread, free; NULL-tolerant. */
void flusher_free(struct flusher **f);
/* Have the thread fdatasync(fd); fd must stay open until flusher_wait or
 * flusher_end returns.  Only when !flusher_busy(f). */
void flusher_start(struct flusher *f, int fd);
/* Whether a flush was started and flusher_end has not yet been called. */
int flusher_busy(const struct flusher *f);
/* Block until the flush started ends (at once if none runs); changes
 * nothing else: flusher_end still has to be called. */
void flusher_wait(struct flusher *f);
/* Block until it ends, then collect it: 0, or fdatasync's errno.  The
 * flush is then over (!flusher_busy).  Only when flusher_busy(f). */
int flusher_end(struct flusher *f);
/* Readable once the flush started has ended, until flusher_end. */
int flusher_fd(const struct flusher *f);

#endif
