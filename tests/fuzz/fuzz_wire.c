/*
 * fuzz_wire.c: libFuzzer target for the wire codec (proto/wire.c).
 *
 * Checks on every input (names as printed on failure):
 *  - wire-decode: wire_decode returns one of its documented codes and, on
 *    error, leaves the message zeroed;
 *  - wire-rules: a decoded message satisfies every field rule of
 *    PROTOCOL.md 3.3 (the daemon trusts it as is): ids, levels, names,
 *    years, versions >= 1, paths of 1..8 distinct ids from the sender to
 *    the origin, counters >= 0, filed_by text of 0..63 bytes, successor
 *    "" or an id, at most WIRE_MAX_ITEMS entries;
 *  - wire-roundtrip: a decoded message re-encodes (wire_encode accepts
 *    everything wire_decode produces), no longer than the input (the
 *    canonical form is minimal) but for the empty fields 9 and 10 it
 *    gives a report of an older sender (two bytes per report) and field 6
 *    a WELCOME (one byte), and decodes back to an identical message;
 *    the canonical form is a fixed point: encoding it again gives the same
 *    bytes.
 * Built with -DFUZZ_WIRE_SEEDS instead, this file is a small program that
 * writes one valid message of every type into a directory, as a seed corpus.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "valid.h"
#include "wire.h"

static int
msg_equal(const struct wire_msg *a, const struct wire_msg *b)
{
	return a->type == b->type && a->seq == b->seq &&
	       a->refused == b->refused && strcmp(a->id, b->id) == 0 &&
	       strcmp(a->level, b->level) == 0 &&
	       strcmp(a->name, b->name) == 0 && a->nkeys == b->nkeys &&
	       a->nown == b->nown && a->nreports == b->nreports &&
	       (a->nkeys == 0 ||
	           memcmp(a->keys, b->keys, a->nkeys * sizeof *a->keys) == 0) &&
	       (a->nown == 0 ||
	           memcmp(a->own, b->own, a->nown * sizeof *a->own) == 0) &&
	       (a->nreports == 0 || memcmp(a->reports, b->reports,
	                                a->nreports * sizeof *a->reports) == 0);
}

static int
is_zero(const struct wire_msg *m)
{
	static const struct wire_msg zero;
	return memcmp(m, &zero, sizeof zero) == 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static int
key_ok(const struct wire_key *k, int want)
{
	return valid_id(k->origin, strlen(k->origin)) == 0 &&
	       valid_report_year(k->year) == 0 &&
	       (want ? k->version == 0 : k->version >= 1);
}

static int
report_ok(const struct wire_report *r)
{
	if (valid_id(r->origin, strlen(r->origin)) != 0 ||
	    valid_level(r->level, strlen(r->level)) < 0 ||
	    valid_unit_name(r->name, strlen(r->name)) != 0 ||
	    valid_report_year(r->year) != 0 || r->version < 1 ||
	    r->updated_at < 0 || r->path_len < 1 ||
	    r->path_len > WIRE_MAX_PATH ||
	    r->ncounters < CDHT_WIRE_MIN_COUNTERS ||
	    r->ncounters > CDHT_NCOUNTERS ||
	    strcmp(r->path[r->path_len - 1], r->origin) != 0 ||
	    strnlen(r->filed_by, sizeof r->filed_by) > 63 ||
	    valid_text(r->filed_by, strlen(r->filed_by)) != 0 ||
	    strnlen(r->successor, sizeof r->successor) > WIRE_MAX_ID ||
	    (r->successor[0] != '\0' &&
	        valid_id(r->successor, strlen(r->successor)) != 0))
		return 0;
	for (int i = 0; i < r->path_len; i++) {
		if (valid_id(r->path[i], strlen(r->path[i])) != 0)
			return 0;
		for (int j = 0; j < i; j++)
			if (strcmp(r->path[i], r->path[j]) == 0)
				return 0;
	}
	for (int i = 0; i < CDHT_NCOUNTERS; i++)
		if (r->counters.v[i] < 0 ||
		    (i >= r->ncounters && r->counters.v[i] != 0))
			return 0;
	return 1;
}

/* PROTOCOL.md 3.3, checked independently of wire.c's own checks. */
static void
check_rules(const struct wire_msg *m)
{
	FUZZ_CHECK(m->type >= WIRE_HELLO && m->type <= WIRE_RESYNC,
	    "wire-rules", "type %d", m->type);
	FUZZ_CHECK(m->nkeys <= WIRE_MAX_ITEMS && m->nown <= WIRE_MAX_ITEMS &&
	               m->nreports <= WIRE_MAX_ITEMS,
	    "wire-rules", "more than WIRE_MAX_ITEMS entries");
	if (m->type == WIRE_HELLO || m->type == WIRE_WELCOME)
		FUZZ_CHECK(valid_id(m->id, strlen(m->id)) == 0, "wire-rules",
		    "id \"%s\"", m->id);
	if (m->type == WIRE_HELLO)
		FUZZ_CHECK(valid_level(m->level, strlen(m->level)) >= 0 &&
		               valid_unit_name(m->name, strlen(m->name)) == 0,
		    "wire-rules", "HELLO level or name");
	for (size_t i = 0; i < m->nkeys; i++)
		FUZZ_CHECK(key_ok(&m->keys[i], m->type == WIRE_WELCOME),
		    "wire-rules", "key %zu", i);
	for (size_t i = 0; i < m->nown; i++)
		FUZZ_CHECK(key_ok(&m->own[i], 0), "wire-rules", "own %zu", i);
	for (size_t i = 0; i < m->nreports; i++)
		FUZZ_CHECK(report_ok(&m->reports[i]), "wire-rules",
		    "report %zu (%s/%d)", i, m->reports[i].origin,
		    m->reports[i].year);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_msg a, b;
	char *enc = NULL, *enc2 = NULL;
	size_t len = 0, len2 = 0;
	int rc;

	rc = wire_decode((const char *)data, size, &a);
	if (rc != WIRE_OK) {
		FUZZ_CHECK((rc == WIRE_EMALFORMED || rc == WIRE_EVERSION ||
		               rc == WIRE_ENOMEM) &&
		               is_zero(&a),
		    "wire-decode", "wire_decode returned %d or left data", rc);
		return 0;
	}
	check_rules(&a);
	rc = wire_encode(&a, &enc, &len);
	FUZZ_CHECK(rc == WIRE_OK, "wire-roundtrip",
	    "wire_encode refused a decoded message: %d", rc);
	if (rc != WIRE_OK) {
		wire_msg_free(&a);
		return 0;
	}
	/* + 2 a report (fields 9 filed_by and 10 successor), + 1 a WELCOME
	 * (field 6) */
	FUZZ_CHECK(len <= size + 2 * a.nreports + (a.type == WIRE_WELCOME),
	    "wire-roundtrip",
	    "canonical form (%zu bytes) longer than the input (%zu) and two "
	    "bytes per report or one per WELCOME",
	    len, size);
	rc = wire_decode(enc, len, &b);
	FUZZ_CHECK(rc == WIRE_OK && msg_equal(&a, &b), "wire-roundtrip",
	    "the canonical form decodes to another message (%d)", rc);
	if (rc == WIRE_OK) {
		rc = wire_encode(&b, &enc2, &len2);
		FUZZ_CHECK(
		    rc == WIRE_OK && len2 == len && memcmp(enc, enc2, len) == 0,
		    "wire-roundtrip",
		    "the canonical form is not a fixed point");
	}
	free(enc);
	free(enc2);
	wire_msg_free(&a);
	wire_msg_free(&b);
	return 0;
}

#ifdef FUZZ_WIRE_SEEDS
/* Usage: fuzz_wire_seeds DIR: writes DIR/seed-<type> for every type. */
int
main(int argc, char **argv)
{
	struct wire_key keys[2], want[1];
	struct wire_report rep;
	struct wire_msg m;

	if (argc != 2) {
		fprintf(stderr, "usage: %s corpus-dir\n", argv[0]);
		return 2;
	}
	memset(keys, 0, sizeof keys);
	strcpy(keys[0].origin, "03646");
	keys[0].year = 2024;
	keys[0].version = 3;
	strcpy(keys[1].origin, "116");
	keys[1].year = 2030;
	keys[1].version = 1ull << 40;
	memset(want, 0, sizeof want);
	strcpy(want[0].origin, "03649");
	want[0].year = 2025;
	memset(&rep, 0, sizeof rep);
	strcpy(rep.origin, "03646");
	strcpy(rep.level, "commune");
	strcpy(rep.name, "X\xc3\xa3 T\xc3\xa2n Th\xc3\xa0nh");
	rep.year = 2024;
	rep.version = 7;
	rep.updated_at = 1735689600;
	rep.path_len = 2;
	strcpy(rep.path[0], "116");
	strcpy(rep.path[1], "03646");
	for (int i = 0; i < CDHT_NCOUNTERS; i++)
		rep.counters.v[i] = i * 37;
	strcpy(rep.filed_by, "Nguy\xe1\xbb\x85n V\xc4\x83n A");
	strcpy(rep.successor, "03647");

	for (int t = WIRE_HELLO; t <= WIRE_RESYNC; t++) {
		char path[4096], *buf;
		size_t len;
		FILE *f;

		memset(&m, 0, sizeof m);
		m.type = t;
		strcpy(m.id, t == WIRE_WELCOME ? "116" : "03646");
		strcpy(m.level, "commune");
		strcpy(m.name, "X\xc3\xa3 T\xc3\xa2n Th\xc3\xa0nh");
		m.seq = 42;
		m.refused = 1;
		m.keys = t == WIRE_WELCOME ? want : keys;
		m.nkeys = t == WIRE_WELCOME ? 1 : 2;
		m.own = keys;
		m.nown = 1;
		m.reports = &rep;
		m.nreports = 1;
		if (wire_encode(&m, &buf, &len) != WIRE_OK)
			return 1;
		snprintf(path, sizeof path, "%s/seed-%d", argv[1], t);
		if ((f = fopen(path, "wb")) == NULL ||
		    fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
			perror(path);
			return 1;
		}
		free(buf);
	}
	return 0;
}
#endif
