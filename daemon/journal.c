/*
 * journal.c: the write-ahead journal's file format and I/O (journal.h,
 * proto/PROTOCOL.md 7.2).  Everything is little-endian and checksummed
 * with CRC32C; headers and records start on JOURNAL_BLOCK boundaries, so a
 * record's write never rewrites a block an earlier, acknowledged record
 * lives in.  validate_header and parse_ops are the only readers of bytes
 * from the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "log.h"

#define MAGIC      "CDHTJRN" /* 8 bytes with its NUL */
#define HDR_CRC    304       /* the header's checksum covers bytes 0..303 */
#define AREA       (2 * (uint64_t)JOURNAL_BLOCK) /* the first record */
#define FLAG_CLEAN 1u

struct journal {
	int fd;
	char path[4200];
	uint64_t size;         /* bytes of the file */
	enum journal_state st; /* of the newest valid header */
	struct journal_ckpt ck;
	uint64_t gen;  /* newest generation (0: none) */
	uint64_t off;  /* the next record's offset */
	uint64_t next; /* reading: the txnid the next record must have */
	size_t nrec;   /* appended since the checkpoint */
	int unsure;    /* a header write failed: it may be on disk anyway,
	                  so no record goes after it until one succeeds */
	unsigned char *rbuf;
	size_t rcap;
};

/* CRC32C (Castagnoli), reflected, as iSCSI and ext4 use it: SSE4.2's
 * crc32 instruction where the CPU has it, else a table. */
static uint32_t crc_tab[256];

static uint32_t
crc32c_table(uint32_t crc, const unsigned char *p, size_t n)
{
	if (crc_tab[1] == 0)
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
			crc_tab[i] = c;
		}
	crc = ~crc;
	while (n--)
		crc = crc_tab[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <nmmintrin.h>

__attribute__((target("sse4.2"))) static uint32_t
crc32c_sse42(uint32_t crc, const unsigned char *p, size_t n)
{
	uint64_t c = ~crc & 0xffffffffu;
	uint32_t c32;

	for (; n >= 8; p += 8, n -= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = _mm_crc32_u64(c, v);
	}
	c32 = (uint32_t)c;
	while (n--)
		c32 = _mm_crc32_u8(c32, *p++);
	return ~c32;
}

static uint32_t
crc32c(uint32_t crc, const unsigned char *p, size_t n)
{
	return __builtin_cpu_supports("sse4.2") ? crc32c_sse42(crc, p, n)
	                                        : crc32c_table(crc, p, n);
}
#else
#define crc32c crc32c_table
#endif

uint32_t
journal_crc32c(uint32_t crc, const void *p, size_t n)
{
	return crc32c(crc, p, n);
}

uint32_t
journal_crc32c_table(uint32_t crc, const void *p, size_t n)
{
	return crc32c_table(crc, p, n);
}

static void
put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void
put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t
get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint64_t
round_block(uint64_t n)
{
	return (n + JOURNAL_BLOCK - 1) / JOURNAL_BLOCK * JOURNAL_BLOCK;
}

/* --- the transaction's operations -------------------------------------- */

void
journal_buf_begin(struct journal_buf *b, size_t limit)
{
	if (b->cap > (1u << 20)) { /* keep a small buffer, not a big one */
		free(b->p);
		b->p = NULL;
		b->cap = 0;
	}
	b->len = JOURNAL_REC_HDR;
	b->limit = limit;
	b->over = 0;
}

void
journal_buf_free(struct journal_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

int
journal_buf_empty(const struct journal_buf *b)
{
	return !b->over && b->len <= JOURNAL_REC_HDR;
}

size_t
journal_buf_mark(const struct journal_buf *b)
{
	return b->len;
}

void
journal_buf_truncate(struct journal_buf *b, size_t mark)
{
	if (!b->over && mark >= JOURNAL_REC_HDR && mark <= b->len)
		b->len = mark;
}

/* Room for n more bytes, or give up (over). */
static unsigned char *
buf_room(struct journal_buf *b, size_t n)
{
	unsigned char *p;
	size_t cap;

	if (b->over)
		return NULL;
	if (n > b->limit || b->len > b->limit - n)
		goto over;
	if (b->len + n > b->cap) {
		cap = b->cap ? b->cap : 8192;
		while (cap < b->len + n)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL)
			goto over;
		b->p = p;
		b->cap = cap;
	}
	p = b->p + b->len;
	b->len += n;
	return p;
over:
	free(b->p);
	b->p = NULL;
	b->cap = 0;
	b->over = 1;
	return NULL;
}

static void
buf_op(struct journal_buf *b, int type, int tbl, const void *k, size_t kl,
    const void *v, size_t vl)
{
	size_t hl = type == JOURNAL_PUT ? 8 : 4;
	unsigned char *p;

	if (tbl < 0 || tbl > 255 || kl == 0 || kl > 0xffff ||
	    vl > 0xffffffffu) {
		buf_room(b, SIZE_MAX); /* cannot be journaled: over */
		return;
	}
	if ((p = buf_room(b, hl + kl + vl)) == NULL)
		return;
	p[0] = (unsigned char)type;
	p[1] = (unsigned char)tbl;
	p[2] = (unsigned char)kl;
	p[3] = (unsigned char)(kl >> 8);
	if (type == JOURNAL_PUT)
		put32(p + 4, (uint32_t)vl);
	memcpy(p + hl, k, kl);
	if (vl)
		memcpy(p + hl + kl, v, vl);
}

void
journal_buf_put(struct journal_buf *b, int tbl, const void *k, size_t kl,
    const void *v, size_t vl)
{
	buf_op(b, JOURNAL_PUT, tbl, k, kl, v, vl);
}

void
journal_buf_del(struct journal_buf *b, int tbl, const void *k, size_t kl)
{
	buf_op(b, JOURNAL_DEL, tbl, k, kl, NULL, 0);
}

/* --- the file ------------------------------------------------------------ */

static int
pread_all(int fd, void *buf, size_t n, uint64_t off, size_t *got)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = pread(
		    fd, (char *)buf + done, n - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	*got = done;
	return 0;
}

static int
pwrite_all(int fd, const void *buf, size_t n, uint64_t off)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = pwrite(fd, (const char *)buf + done, n - done,
		    (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

/* fsync the directory dir, so that a rename or unlink in it lasts. */
static int
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/*
 * The one reader of a header block: 1 and *c when b (JOURNAL_BLOCK bytes)
 * is a valid header; 0 when it is not (*why says what is wrong, NULL for
 * an all-zero block: never written); -1 for a header of a newer format.
 */
static int
validate_header(
    const unsigned char *b, struct journal_ckpt *c, const char **why)
{
	uint32_t version, flags, mlen;
	int zero = 1;

	for (size_t i = 0; i < JOURNAL_BLOCK && zero; i++)
		zero = b[i] == 0;
	*why = NULL;
	if (zero)
		return 0;
	if (memcmp(b, MAGIC, 8) != 0) {
		*why = "no journal magic";
		return 0;
	}
	version = get32(b + 8);
	if (version > JOURNAL_VERSION) {
		*why = "format version newer than this cdhtd's";
		return -1;
	}
	if (version != JOURNAL_VERSION) {
		*why = "format version 0";
		return 0;
	}
	if (get32(b + HDR_CRC) != crc32c(0, b, HDR_CRC)) {
		*why = "checksum mismatch";
		return 0;
	}
	flags = get32(b + 12);
	c->generation = get64(b + 16);
	c->txnid = get64(b + 24);
	c->psize = get32(b + 40);
	mlen = get32(b + 44);
	if (flags & ~FLAG_CLEAN) {
		*why = "unknown flags";
		return 0;
	}
	if (c->generation == 0) {
		*why = "generation 0";
		return 0;
	}
	if (c->psize < 512 || c->psize > 65536 ||
	    (c->psize & (c->psize - 1)) != 0) {
		*why = "page size not a power of two in 512..65536";
		return 0;
	}
	if (mlen != JOURNAL_META) {
		*why = "meta length not 256";
		return 0;
	}
	c->clean = (flags & FLAG_CLEAN) != 0;
	memcpy(c->meta, b + 48, JOURNAL_META);
	return 1;
}

static void
encode_header(unsigned char *b, const struct journal_ckpt *c, uint64_t size)
{
	memset(b, 0, JOURNAL_BLOCK);
	memcpy(b, MAGIC, 8);
	put32(b + 8, JOURNAL_VERSION);
	put32(b + 12, c->clean ? FLAG_CLEAN : 0);
	put64(b + 16, c->generation);
	put64(b + 24, c->txnid);
	put64(b + 32, size);
	put32(b + 40, c->psize);
	put32(b + 44, JOURNAL_META);
	memcpy(b + 48, c->meta, JOURNAL_META);
	put32(b + HDR_CRC, crc32c(0, b, HDR_CRC));
}

static struct journal *
journal_new(const char *dir, int fd, uint64_t size)
{
	struct journal *j = calloc(1, sizeof(*j));

	if (j == NULL) {
		log_warnx("journal: out of memory");
		return NULL;
	}
	j->fd = fd;
	j->size = size / JOURNAL_BLOCK * JOURNAL_BLOCK;
	snprintf(j->path, sizeof(j->path), "%s/%s", dir, JOURNAL_FILE);
	j->st = JOURNAL_FRESH;
	j->off = AREA;
	return j;
}

int
journal_open(const char *dir, int rdonly, struct journal **out)
{
	unsigned char *b = NULL;
	struct journal *j;
	struct journal_ckpt c[2];
	char path[4200];
	struct stat sb;
	int fd, ok[2] = {0, 0}, damaged = 0;

	*out = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, JOURNAL_FILE);
	fd = open(path, (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT)
		return 0;
	if (fd == -1 || fstat(fd, &sb) != 0) {
		log_warn("journal %s", path);
		if (fd != -1)
			close(fd);
		return -1;
	}
	if ((j = journal_new(dir, fd, (uint64_t)sb.st_size)) == NULL) {
		close(fd);
		return -1;
	}
	if (j->size >= AREA) {
		size_t got;

		if ((b = malloc(2 * JOURNAL_BLOCK)) == NULL ||
		    pread_all(fd, b, 2 * JOURNAL_BLOCK, 0, &got) != 0 ||
		    got != 2 * JOURNAL_BLOCK) {
			log_warn("journal %s: reading the headers", path);
			goto fail;
		}
		for (int s = 0; s < 2; s++) {
			const char *why;
			int v =
			    validate_header(b + s * JOURNAL_BLOCK, &c[s], &why);

			if (v < 0) {
				log_warnx("journal %s: header %d: %s: run the "
				          "cdhtd release that wrote it",
				    path, s, why);
				goto fail;
			}
			ok[s] = v;
			if (!v && why != NULL) {
				log_warnx("journal %s: header %d is damaged "
				          "(%s): ignored",
				    path, s, why);
				damaged++;
			}
		}
		/* two headers were written, so records may follow: data.mdb
		 * alone may lack them, or hold a torn tree */
		if (damaged == 2) {
			log_warnx("journal %s: both headers are damaged: it "
			          "cannot be replayed (restore the data "
			          "directory from a backup)",
			    path);
			goto fail;
		}
	}
	free(b);
	b = NULL;
	if (ok[0] || ok[1]) {
		int s =
		    ok[0] && ok[1] ? c[1].generation > c[0].generation : ok[1];
		j->ck = c[s];
		j->gen = c[s].generation;
		j->st = c[s].clean ? JOURNAL_CLEAN : JOURNAL_UNCLEAN;
	} else if (j->size > 0)
		log_debug("journal %s: no checkpoint yet", path);
	journal_rewind(j);
	*out = j;
	return 0;
fail:
	free(b);
	journal_close(&j);
	return -1;
}

int
journal_create(
    const char *dir, uint64_t size, uint64_t after, struct journal **out)
{
	char tmp[4200], path[4200];
	unsigned char *zero;
	uint64_t done = 0;
	int fd;

	*out = NULL;
	size = round_block(size);
	snprintf(tmp, sizeof(tmp), "%s/%s.new", dir, JOURNAL_FILE);
	snprintf(path, sizeof(path), "%s/%s", dir, JOURNAL_FILE);
	if ((zero = calloc(1, 1u << 20)) == NULL) {
		log_warnx("journal: out of memory");
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1)
		goto fail;
	/* zeros written, not allocated: an unwritten extent would make
	 * every later fdatasync write metadata too */
	while (done < size) {
		size_t n = size - done < (1u << 20) ? (size_t)(size - done)
		                                    : (1u << 20);
		if (pwrite_all(fd, zero, n, done) != 0)
			goto fail;
		done += n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0 || sync_dir(dir) != 0)
		goto fail;
	free(zero);
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) == -1) {
		log_warn("journal %s", path);
		return -1;
	}
	if ((*out = journal_new(dir, fd, size)) == NULL) {
		close(fd);
		return -1;
	}
	(*out)->gen = after;
	log_info("journal %s: %llu MiB created", path,
	    (unsigned long long)(size >> 20));
	return 0;
fail:
	log_warn("journal %s: cannot create it", tmp);
	if (fd != -1)
		close(fd);
	unlink(tmp);
	free(zero);
	return -1;
}

int
journal_remove(const char *dir)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", dir, JOURNAL_FILE);
	if (unlink(path) != 0 && errno != ENOENT) {
		log_warn("journal %s: cannot remove it", path);
		return -1;
	}
	if (sync_dir(dir) != 0) {
		log_warn("journal: cannot sync %s", dir);
		return -1;
	}
	return 0;
}

void
journal_close(struct journal **jp)
{
	if (jp == NULL || *jp == NULL)
		return;
	close((*jp)->fd);
	free((*jp)->rbuf);
	free(*jp);
	*jp = NULL;
}

enum journal_state
journal_state(const struct journal *j, struct journal_ckpt *c)
{
	if (c != NULL && j->st != JOURNAL_FRESH)
		*c = j->ck;
	return j->st;
}

uint64_t
journal_size(const struct journal *j)
{
	return j->size;
}

uint64_t
journal_generation(const struct journal *j)
{
	return j->gen;
}

/* --- reading records ----------------------------------------------------- */

void
journal_rewind(struct journal *j)
{
	j->off = AREA;
	j->next = j->ck.txnid + 1;
}

/* The one reader of a record's operations: 0 when ops[0..len) is a whole
 * number of well-formed operations, else -1 and *why. */
static int
parse_ops(const unsigned char *p, size_t len, const char **why)
{
	size_t pos = 0;

	while (pos < len) {
		size_t hl, kl, vl = 0;

		if (len - pos < 4) {
			*why = "an operation is cut short";
			return -1;
		}
		if (p[pos] != JOURNAL_PUT && p[pos] != JOURNAL_DEL) {
			*why = "unknown operation type";
			return -1;
		}
		hl = p[pos] == JOURNAL_PUT ? 8 : 4;
		kl = (size_t)p[pos + 2] | (size_t)p[pos + 3] << 8;
		if (kl == 0) {
			*why = "empty key";
			return -1;
		}
		if (len - pos < hl) {
			*why = "an operation is cut short";
			return -1;
		}
		if (hl == 8)
			vl = get32(p + pos + 4);
		if (len - pos - hl < kl || len - pos - hl - kl < vl) {
			*why = "a key or value runs past the record";
			return -1;
		}
		pos += hl + kl + vl;
	}
	return 0;
}

int
journal_next(struct journal *j, struct journal_rec *r)
{
	unsigned char h[JOURNAL_REC_HDR];
	uint64_t gen, txnid;
	uint32_t crc, len;
	size_t got;
	const char *why;

	if (j->st == JOURNAL_FRESH || j->off >= j->size ||
	    j->size - j->off < JOURNAL_REC_HDR)
		return 0;
	if (pread_all(j->fd, h, sizeof(h), j->off, &got) != 0) {
		log_warn("journal %s: offset %llu", j->path,
		    (unsigned long long)j->off);
		return -1;
	}
	if (got < sizeof(h))
		return 0;
	crc = get32(h);
	len = get32(h + 4);
	gen = get64(h + 8);
	txnid = get64(h + 16);
	if (gen == 0 || len > j->size - j->off - JOURNAL_REC_HDR)
		return 0; /* never written, or cut short */
	if (len > j->rcap) {
		unsigned char *p = realloc(j->rbuf, len);

		if (p == NULL) {
			log_warnx("journal %s: out of memory", j->path);
			return -1;
		}
		j->rbuf = p;
		j->rcap = len;
	}
	if (pread_all(j->fd, j->rbuf, len, j->off + JOURNAL_REC_HDR, &got) !=
	    0) {
		log_warn("journal %s: offset %llu", j->path,
		    (unsigned long long)j->off);
		return -1;
	}
	if (got < len || crc != crc32c(crc32c(0, h + 4, JOURNAL_REC_HDR - 4),
	                            j->rbuf, len)) {
		log_debug("journal %s: offset %llu: checksum mismatch: the end",
		    j->path, (unsigned long long)j->off);
		return 0; /* a write cut short: never acknowledged */
	}
	if (gen < j->gen)
		return 0; /* an older generation's record: the end */
	if (gen > j->gen) {
		log_warnx("journal %s: offset %llu: a record of generation "
		          "%llu follows the newest valid header (%llu): that "
		          "header's successor is damaged; the journal cannot "
		          "be replayed (restore the data directory from a "
		          "backup)",
		    j->path, (unsigned long long)j->off,
		    (unsigned long long)gen, (unsigned long long)j->gen);
		return -1;
	}
	if (txnid != j->next || get64(h + 24) != 0 ||
	    parse_ops(j->rbuf, len, &why) != 0) {
		log_warnx("journal %s: offset %llu: record of transaction %llu "
		          "(expected %llu) is not well-formed: %s",
		    j->path, (unsigned long long)j->off,
		    (unsigned long long)txnid, (unsigned long long)j->next,
		    txnid != j->next     ? "out of sequence"
		    : get64(h + 24) != 0 ? "reserved field not zero"
		                         : why);
		return -1;
	}
	r->txnid = txnid;
	r->offset = j->off;
	r->ops = j->rbuf;
	r->len = len;
	j->off += round_block(JOURNAL_REC_HDR + (uint64_t)len);
	j->next++;
	return 1;
}

int
journal_op_next(const struct journal_rec *r, size_t *pos, struct journal_op *op)
{
	const unsigned char *p;
	size_t hl;

	/* an empty record's ops may be NULL: no pointer arithmetic on it */
	if (*pos >= r->len)
		return 0;
	p = r->ops + *pos;
	op->type = p[0];
	op->tbl = p[1];
	op->kl = (size_t)p[2] | (size_t)p[3] << 8;
	hl = op->type == JOURNAL_PUT ? 8 : 4;
	op->vl = op->type == JOURNAL_PUT ? get32(p + 4) : 0;
	op->k = p + hl;
	op->v = p + hl + op->kl;
	*pos += hl + op->kl + op->vl;
	return 1;
}

/* --- appending ----------------------------------------------------------- */

int
journal_fits(const struct journal *j, const struct journal_buf *b)
{
	return !b->over && !j->unsure && j->off <= j->size &&
	       round_block(b->len) <= j->size - j->off;
}

int
journal_write(struct journal *j, uint64_t txnid, struct journal_buf *b)
{
	size_t total = (size_t)round_block(b->len), len;

	if (!journal_fits(j, b))
		return 1;
	if (total > b->cap) {
		unsigned char *p = realloc(b->p, total);

		if (p == NULL)
			return 1; /* the caller checkpoints instead */
		b->p = p;
		b->cap = total;
	}
	len = b->len - JOURNAL_REC_HDR;
	memset(b->p + b->len, 0, total - b->len);
	put32(b->p + 4, (uint32_t)len);
	put64(b->p + 8, j->gen);
	put64(b->p + 16, txnid);
	put64(b->p + 24, 0);
	put32(b->p, crc32c(0, b->p + 4, b->len - 4));
	if (pwrite_all(j->fd, b->p, total, j->off) != 0) {
		log_warn("journal %s: writing the record of transaction %llu",
		    j->path, (unsigned long long)txnid);
		return -1;
	}
	j->off += total;
	j->nrec++;
	return 0;
}

int
journal_fd(const struct journal *j)
{
	return j->fd;
}

int
journal_append(struct journal *j, uint64_t txnid, struct journal_buf *b)
{
	int rc = journal_write(j, txnid, b);

	if (rc == 0 && fdatasync(j->fd) != 0) {
		log_warn("journal %s: flushing the record of transaction %llu",
		    j->path, (unsigned long long)txnid);
		return -1;
	}
	return rc;
}

size_t
journal_records(const struct journal *j)
{
	return j->nrec;
}

int
journal_checkpoint(struct journal *j, const struct journal_ckpt *c, int clean)
{
	unsigned char b[JOURNAL_BLOCK];
	struct journal_ckpt n = *c;

	n.generation = j->gen + 1;
	n.clean = clean;
	encode_header(b, &n, j->size);
	if (pwrite_all(j->fd, b, sizeof(b),
	        (n.generation & 1) * (uint64_t)JOURNAL_BLOCK) != 0 ||
	    fdatasync(j->fd) != 0) {
		/* a failed pwrite or fdatasync may still leave the header on
		 * disk: a record appended under the previous generation would
		 * then be ignored by a recovery from this one */
		j->unsure = 1;
		log_warn("journal %s: writing checkpoint %llu", j->path,
		    (unsigned long long)n.generation);
		return -1;
	}
	j->unsure = 0;
	j->ck = n;
	j->gen = n.generation;
	j->st = clean ? JOURNAL_CLEAN : JOURNAL_UNCLEAN;
	j->nrec = 0;
	journal_rewind(j);
	return 0;
}
