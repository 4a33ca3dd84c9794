/*
 * filing.c: the yearly filing's policy: who must have filed below before
 * this node may file, and what a filing and a reopening record.  The state
 * lives in the year's local report (records.c owns its encoding), so it
 * travels upward with the report; the audit trail says who and when.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "filing.h"

int
filing_get(struct store_txn *t, int year, struct filing *out)
{
	struct local_report lr;
	int rc = records_local(t, year, &lr);

	memset(out, 0, sizeof(*out));
	if (rc != STORE_OK)
		return rc;
	out->filed = lr.c.v[CDHT_C_filed] != 0;
	out->filed_at = lr.c.v[CDHT_C_filed_at];
	snprintf(out->by, sizeof(out->by), "%s", lr.filed_by);
	out->reopened = lr.c.v[CDHT_C_reopened];
	out->missing = lr.c.v[CDHT_C_filed_missing];
	return STORE_OK;
}

/* Append a copy of id to *ids (*n entries); 0 or -1. */
static int
ids_add(char ***ids, size_t *n, const char *id)
{
	char **p = realloc(*ids, (*n + 1) * sizeof(**ids));

	if (p == NULL)
		return -1;
	*ids = p;
	if ((p[*n] = strdup(id)) == NULL)
		return -1;
	(*n)++;
	return 0;
}

static void
ids_free(char ***ids, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*ids)[i]);
	free(*ids);
	*ids = NULL;
	*n = 0;
}

int
filing_unfiled_below(
    struct store_txn *t, const struct conf *c, int year, char ***ids, size_t *n)
{
	struct agg_node *nodes = NULL;
	size_t nn = 0;
	int rc;

	*ids = NULL;
	*n = 0;
	if ((rc = aggregate_nodes(t, &nodes, &nn)) != STORE_OK)
		return rc;
	for (size_t i = 0; i < nn && rc == STORE_OK; i++) {
		struct wire_report r;

		rc = aggregate_report_of(t, nodes[i].id, year, &r);
		if (rc == STORE_OK && r.counters.v[CDHT_C_filed] != 0)
			continue;
		if (rc != STORE_OK && rc != STORE_NOTFOUND)
			break;
		rc = ids_add(ids, n, nodes[i].id) ? STORE_ENOMEM : STORE_OK;
	}
	/* configured children never heard from */
	for (size_t i = 0; i < c->nchildren && rc == STORE_OK; i++) {
		size_t j;

		for (j = 0; j < nn; j++)
			if (strcmp(nodes[j].id, c->children[i].id) == 0)
				break;
		if (j == nn && ids_add(ids, n, c->children[i].id))
			rc = STORE_ENOMEM;
	}
	free(nodes);
	if (rc != STORE_OK)
		ids_free(ids, n);
	return rc;
}

int
filing_file(struct store_txn *t, const struct conf *c,
    const struct records_actor *act, int year, int force, char ***ids,
    size_t *n)
{
	struct local_report lr;
	char detail[400];
	size_t off;
	int rc;

	*ids = NULL;
	*n = 0;
	if ((rc = records_year_filed(t, year)) != 0)
		return rc > 0 ? RECORDS_FILED : rc;
	if ((rc = filing_unfiled_below(t, c, year, ids, n)) != STORE_OK)
		return rc;
	if (*n > 0 && !force)
		return FILING_UNFILED;
	records_local(t, year, &lr);
	lr.c.v[CDHT_C_filed] = 1;
	lr.c.v[CDHT_C_filed_at] = act->now;
	lr.c.v[CDHT_C_filed_missing] = (int64_t)*n;
	snprintf(
	    lr.filed_by, sizeof(lr.filed_by), "%s", act->who ? act->who : "-");
	records_local_put(t, act, year, &lr);
	off = (size_t)snprintf(detail, sizeof(detail), "%d", year);
	if (*n > 0)
		off += (size_t)snprintf(detail + off, sizeof(detail) - off,
		    " forced; not filed below (%zu):", *n);
	for (size_t i = 0; i < *n && off < sizeof(detail); i++)
		off += (size_t)snprintf(
		    detail + off, sizeof(detail) - off, " %s", (*ids)[i]);
	records_audit(t, act, "file", detail);
	return store_txn_err(t);
}

int
filing_reopen(struct store_txn *t, const struct records_actor *act, int year)
{
	struct local_report lr;
	char detail[32];
	int rc;

	if ((rc = records_local(t, year, &lr)) != STORE_OK)
		return rc;
	if (lr.c.v[CDHT_C_filed] == 0)
		return STORE_NOTFOUND;
	lr.c.v[CDHT_C_filed] = 0;
	lr.c.v[CDHT_C_filed_at] = 0;
	lr.c.v[CDHT_C_filed_missing] = 0;
	lr.c.v[CDHT_C_reopened]++;
	lr.filed_by[0] = '\0';
	records_local_put(t, act, year, &lr);
	snprintf(detail, sizeof(detail), "%d", year);
	records_audit(t, act, "reopen", detail);
	return store_txn_err(t);
}

void
filing_ids_free(char ***ids, size_t *n)
{
	ids_free(ids, n);
}
