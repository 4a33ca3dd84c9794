/*
 * fuzz_journal.c: libFuzzer target for the journal file's reader
 * (daemon/journal.h): the bytes a crash, a disk or a hand can leave in
 * DATA_DIR/journal, read as recovery reads them.
 *
 * Input: the whole journal file, written into a temporary directory and
 * opened read-only with journal_open, then every record after the newest
 * checkpoint taken with journal_next and every operation with
 * journal_op_next (journal_next has validated them: this target checks it
 * did).
 *
 * Checks on every input:
 *  - journal-txnid: records come in transaction order, the first the
 *    checkpoint's + 1;
 *  - journal-bounds: a record lies inside the file, after the headers;
 *  - journal-op: every operation is a put or a delete of a table 0..255,
 *    a key of 1..65535 bytes, a delete without a value, all inside the
 *    record (ASan checks each byte is read in bounds);
 *  - journal-op-end: the operations end exactly at the record's length.
 * The reader never crashes or leaks (ASan, UBSan, LeakSanitizer).  An
 * input whose last byte is odd has its checksums made right first
 * (fix_sums), so mutations get past them to the parsers.
 *
 * Built with -DFUZZ_JOURNAL_SEEDS instead, this file is a small program
 * that writes valid journals (one, three and no records) into a
 * directory, as a seed corpus.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "journal.h"

#define MAX_RECORDS 100000

static char dir[128];

static void
cleanup(void)
{
	fuzz_rm_dir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_tmpdir(dir, "journal");
	atexit(cleanup);
	return 0;
}

#ifndef FUZZ_JOURNAL_SEEDS
/* CRC32C (Castagnoli, reflected), written here again from its definition,
 * not taken from journal.c. */
static uint32_t
crc32c(uint32_t crc, const unsigned char *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
	}
	return ~crc;
}

static void
put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/*
 * Inputs whose last byte is odd get their checksums made right, by the
 * documented layout (proto/PROTOCOL.md 7.2.1: header CRC at 304 over
 * 0..303; a record's CRC at 0 over 4..32+len, records from 8192 on 4096-byte
 * boundaries), so mutations reach the header and operations parsers
 * instead of stopping at a checksum.
 */
static void
fix_sums(unsigned char *b, size_t size)
{
	for (size_t h = 0; h < 2 && (h + 1) * JOURNAL_BLOCK <= size; h++)
		put32(b + h * JOURNAL_BLOCK + 304,
		    crc32c(0, b + h * JOURNAL_BLOCK, 304));
	for (size_t off = 2 * JOURNAL_BLOCK; off + JOURNAL_REC_HDR <= size;) {
		size_t len = (size_t)b[off + 4] | (size_t)b[off + 5] << 8 |
		             (size_t)b[off + 6] << 16 |
		             (size_t)b[off + 7] << 24;

		if (len > size - off - JOURNAL_REC_HDR)
			break;
		put32(
		    b + off, crc32c(0, b + off + 4, JOURNAL_REC_HDR - 4 + len));
		off += (JOURNAL_REC_HDR + len + JOURNAL_BLOCK - 1) /
		       JOURNAL_BLOCK * JOURNAL_BLOCK;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[200];
	struct journal *j = NULL;
	struct journal_ckpt c;
	struct journal_rec r;
	unsigned sum = 0;
	int rc, n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, JOURNAL_FILE);
	if (size > 0 && (data[size - 1] & 1)) {
		unsigned char *b = malloc(size);

		if (b == NULL)
			abort();
		memcpy(b, data, size);
		fix_sums(b, size);
		fuzz_write_file(path, b, size);
		free(b);
	} else
		fuzz_write_file(path, data, size);
	if (journal_open(dir, 1, &j) != 0 || j == NULL)
		return 0;
	memset(&c, 0, sizeof(c));
	journal_state(j, &c);
	uint64_t prev = c.txnid;
	while (n++ < MAX_RECORDS && (rc = journal_next(j, &r)) == 1) {
		struct journal_op op;
		size_t pos = 0;

		FUZZ_CHECK(r.txnid == prev + 1, "journal-txnid",
		    "record %llu after %llu", (unsigned long long)r.txnid,
		    (unsigned long long)prev);
		prev = r.txnid;
		FUZZ_CHECK(r.offset >= 2 * JOURNAL_BLOCK &&
		               r.offset + JOURNAL_REC_HDR + r.len <= size,
		    "journal-bounds", "record at %llu of %zu bytes in %zu",
		    (unsigned long long)r.offset, r.len, size);
		while (journal_op_next(&r, &pos, &op)) {
			FUZZ_CHECK(
			    (op.type == JOURNAL_PUT ||
			        (op.type == JOURNAL_DEL && op.vl == 0)) &&
			        op.tbl >= 0 && op.tbl <= 255 && op.kl >= 1 &&
			        op.kl <= 65535 && pos <= r.len,
			    "journal-op", "type %d table %d key %zu value %zu",
			    op.type, op.tbl, op.kl, op.vl);
			for (size_t i = 0; i < op.kl; i++)
				sum += ((const unsigned char *)op.k)[i];
			for (size_t i = 0; i < op.vl; i++)
				sum += ((const unsigned char *)op.v)[i];
		}
		FUZZ_CHECK(pos == r.len, "journal-op-end",
		    "operations end at %zu of %zu", pos, r.len);
	}
	journal_close(&j);
	return (int)(sum & 0); /* the bytes were read; libFuzzer wants 0 */
}
#else
/* Usage: fuzz_journal_seeds DIR: writes DIR/seed-{empty,one,three}. */
static void
seed(const char *out, const char *name, int nrec)
{
	struct journal *j = NULL;
	struct journal_ckpt c;
	struct journal_buf b;
	char src[200], dst[300];
	FILE *f, *g;
	int ch;

	if (journal_create(dir, 2 * JOURNAL_BLOCK + 4 * JOURNAL_BLOCK, 0, &j) !=
	    0)
		abort();
	memset(&c, 0, sizeof(c));
	c.txnid = 41;
	c.psize = 4096;
	memcpy(c.meta, "meta page bytes", 15);
	if (journal_checkpoint(j, &c, nrec == 0))
		abort();
	for (int i = 0; i < nrec; i++) {
		journal_buf_begin(&b, 1u << 16);
		journal_buf_put(&b, 1, "k1", 2, "value", 5);
		journal_buf_put(&b, 4, "\x07\xea", 2, "v", 1);
		journal_buf_del(&b, 9, "gone", 4);
		if (journal_append(j, 42 + (uint64_t)i, &b) != 0)
			abort();
		journal_buf_free(&b);
	}
	journal_close(&j);
	snprintf(src, sizeof(src), "%s/%s", dir, JOURNAL_FILE);
	snprintf(dst, sizeof(dst), "%s/seed-%s", out, name);
	if ((f = fopen(src, "rb")) == NULL || (g = fopen(dst, "wb")) == NULL)
		abort();
	while ((ch = getc(f)) != EOF)
		putc(ch, g);
	fclose(f);
	fclose(g);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_journal_seeds DIR\n");
		return 2;
	}
	LLVMFuzzerInitialize(&argc, &argv);
	seed(argv[1], "empty", 0);
	seed(argv[1], "one", 1);
	seed(argv[1], "three", 3);
	return 0;
}
#endif
