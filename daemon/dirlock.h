/*
 * dirlock.h: one daemon per data directory.  An exclusive flock on
 * DATA_DIR/lock, held for the life of the process, whose content is the
 * holder's pid: a second cdhtd on the same directory (which would knock
 * the first one's uplink off the parent, both speaking for one unit) exits
 * naming the first.  The kernel drops the lock when the holder dies, so a
 * stale file never blocks a start.  A second line, DIRLOCK_BACKUP_MARK,
 * says that the holder answers SIGUSR1 (cdhtd --backup, store.c): a
 * holder without it (an older release) would die of the signal.
 */
#ifndef CDHT_DIRLOCK_H
#define CDHT_DIRLOCK_H

struct dirlock;

#define DIRLOCK_BACKUP_MARK "sigusr1 backup-mark"

/*
 * Create dir (mode 0700) when missing, take the lock without waiting and
 * write our pid into it.  where prefixes the messages (conf_where() of
 * node.data_dir).  On failure prints "where: ..." to stderr naming dir and,
 * when another process holds the lock, its pid, and returns -1.  Returns
 * 0 and *out, the caller's: release with dirlock_release.
 */
int dirlock_take(const char *dir, const char *where, struct dirlock **out);

/* Drop the lock, free *l and set it to NULL; NULL-tolerant.  Returns
 * nothing. */
void dirlock_release(struct dirlock **l);

#endif
