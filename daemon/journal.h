/*
 * journal.h: the write-ahead journal in front of LMDB, the file
 * DATA_DIR/journal (proto/PROTOCOL.md 7.2): two header blocks holding the
 * last checkpoint (an LMDB transaction id, LMDB's page size and a copy of
 * that transaction's meta page), then one record per transaction committed
 * since, each its puts and deletes in order.  journal.c owns the format:
 * encoding, validation (a damaged header or record is reported, never
 * trusted), creation, appends and checkpoints, each made durable by one
 * fdatasync.  It knows nothing of LMDB: store.c hands it the bytes to keep
 * and replays what it reads back.
 */
#ifndef CDHT_JOURNAL_H
#define CDHT_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#define JOURNAL_VERSION 1    /* the file format (header field version) */
#define JOURNAL_BLOCK   4096 /* headers and records start on a block */
#define JOURNAL_META    256  /* bytes of LMDB's meta page kept */
#define JOURNAL_FILE    "journal"
#define JOURNAL_REC_HDR 32 /* a record's header; its operations follow */

enum journal_optype { JOURNAL_PUT = 1, JOURNAL_DEL = 2 };

/* The checkpoint a header holds. */
struct journal_ckpt {
	uint64_t generation; /* 1, 2, ...: the newest valid header wins */
	uint64_t txnid;      /* LMDB's last transaction, durable in data.mdb */
	uint32_t psize;      /* LMDB's page size */
	int clean;           /* written by a clean close: trust data.mdb */
	unsigned char meta[JOURNAL_META]; /* the meta page of txnid */
};

/*
 * The operations of the write transaction in progress, encoded as the body
 * of its record (store.c keeps one).  Past limit bytes, or when memory runs
 * out, it gives up and frees its bytes: over is set and the transaction is
 * made durable by a checkpoint instead of a record.
 */
struct journal_buf {
	unsigned char *p;
	size_t len, cap; /* len counts the record header's room */
	size_t limit;
	int over;
};

/* Start an empty transaction of at most limit bytes of record. */
void journal_buf_begin(struct journal_buf *b, size_t limit);
/* Free the bytes (the struct is the caller's). */
void journal_buf_free(struct journal_buf *b);
/* Whether no operation is recorded (and none was given up on). */
int journal_buf_empty(const struct journal_buf *b);
/* A position to go back to (a nested transaction's start) and the way
 * back: the operations after mark are forgotten (its abort). */
size_t journal_buf_mark(const struct journal_buf *b);
void journal_buf_truncate(struct journal_buf *b, size_t mark);
/* Append one operation (tbl 0..255, kl 1..65535). */
void journal_buf_put(struct journal_buf *b, int tbl, const void *k, size_t kl,
    const void *v, size_t vl);
void journal_buf_del(struct journal_buf *b, int tbl, const void *k, size_t kl);

/* An open journal file. */
struct journal;

/* What the headers of a journal say. */
enum journal_state {
	JOURNAL_FRESH,   /* no valid header: new (or its first one torn) */
	JOURNAL_CLEAN,   /* the newest header was written by a clean close */
	JOURNAL_UNCLEAN, /* records may follow the checkpoint: recover */
};

/*
 * Open DATA_DIR/journal (read-only when rdonly) and read its headers.
 * Returns 0 and *out (NULL when there is no such file), the caller's: free
 * with journal_close; or -1 (logged: an I/O error, a header of a newer
 * format version, or both headers damaged, naming the file).
 */
int journal_open(const char *dir, int rdonly, struct journal **out);
/* Replace DATA_DIR/journal by a file of size bytes of zeros (written, not
 * allocated, then synced, renamed into place, the directory synced), whose
 * first checkpoint will be generation after + 1.  0 and *out, or -1
 * (logged). */
int journal_create(
    const char *dir, uint64_t size, uint64_t after, struct journal **out);
/* Remove DATA_DIR/journal (durably: the directory is synced); 0 when it is
 * gone, -1 (logged). */
int journal_remove(const char *dir);
/* Close and free *j (NULL-tolerant); sets *j = NULL. */
void journal_close(struct journal **j);

/* The state and, unless JOURNAL_FRESH, the newest valid checkpoint. */
enum journal_state journal_state(
    const struct journal *j, struct journal_ckpt *c);
/* The file's size in bytes and the newest generation (0: none). */
uint64_t journal_size(const struct journal *j);
uint64_t journal_generation(const struct journal *j);

/* One record read back: ops points into the journal's buffer, valid until
 * the next journal_next. */
struct journal_rec {
	uint64_t txnid;
	uint64_t offset; /* in the file, for messages */
	const unsigned char *ops;
	size_t len;
};

/* One operation of a record. */
struct journal_op {
	int type; /* enum journal_optype */
	int tbl;
	const void *k, *v;
	size_t kl, vl; /* vl 0 for a delete */
};

/*
 * The records after the newest checkpoint, in order, from the first (whose
 * txnid is the checkpoint's + 1): returns 1 and *r; 0 at the end (a block
 * of another generation, a checksum that fails: a write the crash cut
 * short, never acknowledged; the end of the file); -1 when the journal
 * cannot be trusted (a record of a newer generation than the newest valid
 * header, a record whose checksum holds but whose content does not parse:
 * logged, naming the file and offset).  journal_rewind starts over.
 */
int journal_next(struct journal *j, struct journal_rec *r);
void journal_rewind(struct journal *j);
/* The next operation of r from *pos (0 at first): 1 and *op, 0 at the end
 * (journal_next has checked that every operation parses). */
int journal_op_next(
    const struct journal_rec *r, size_t *pos, struct journal_op *op);

/* Whether b's record fits after the records appended so far (never
 * after a failed journal_checkpoint, until one succeeds). */
int journal_fits(const struct journal *j, const struct journal_buf *b);
/*
 * Append b as the record of transaction txnid and fdatasync it.  0: it is
 * durable; 1: it does not fit (or b is over): nothing written; -1: an I/O
 * error (logged), the record may be torn.
 */
int journal_append(struct journal *j, uint64_t txnid, struct journal_buf *b);
/*
 * journal_append without the fdatasync: the record is written, not yet
 * durable, until fdatasync(journal_fd(j)) returns 0 (from any thread; the
 * descriptor lives as long as j).  Same returns.  The next record may be
 * written only once that flush is done, so at most the newest record is
 * ever unflushed.
 */
int journal_write(struct journal *j, uint64_t txnid, struct journal_buf *b);
int journal_fd(const struct journal *j);
/* CRC32C of p[0..n) continuing crc (0 to start), as the file has it. */
uint32_t journal_crc32c(uint32_t crc, const void *p, size_t n);
/* The same by its table, whatever the CPU has (tests check both). */
uint32_t journal_crc32c_table(uint32_t crc, const void *p, size_t n);
/* Records appended since the last checkpoint. */
size_t journal_records(const struct journal *j);
/*
 * Write the next generation's header {c->txnid, c->psize, c->meta, clean}
 * into the slot the newest does not hold, fdatasync, and start the records
 * over.  0, or -1 (logged; the previous checkpoint stays the newest as far
 * as this process knows, but the new header may have reached the disk, so
 * journal_append refuses (1) until a checkpoint succeeds).
 */
int journal_checkpoint(
    struct journal *j, const struct journal_ckpt *c, int clean);

#endif
