/*
 * api_population.c: GET and PUT /v1/population/{year}, the year's
 * denominators of this node's own data.
 */
#include <event2/http.h>

#include "api.h"
#include "input.h"
#include "records.h"
#include "titles.h"

static json_t *
population_obj(int year, const int64_t den[RECORDS_NPOP])
{
	json_t *o = json_object();

	json_object_set_new(o, "year", json_integer(year));
	for (int i = 0; i < RECORDS_NPOP; i++)
		json_object_set_new(
		    o, input_population_fields[i], json_integer(den[i]));
	return o;
}

/*
 * The title kinds of year counted from records (bits of *keep); when doc
 * sets one of their fields, answer 409 title_records and return 1.
 */
static int
titles_kept(struct http_api *h, struct evhttp_request *req, struct store_txn *t,
    int year, const json_t *doc, unsigned *keep)
{
	*keep = 0;
	for (int k = 0; k < TITLE_NKINDS; k++) {
		int64_t n;
		int rc = titles_count(t, year, k, &n);

		if (rc != STORE_OK)
			return rc;
		if (n == 0)
			continue;
		*keep |= 1u << k;
		for (int j = 0; j < 2; j++) {
			const char *f =
			    cdht_counter_names[CDHT_C_families_total + 2 * k +
			                       j];

			if (json_object_get(doc, f) == NULL)
				continue;
			api_send_error(req, 409, "title_records", f,
			    "%d has %lld %s records at this node: %s is "
			    "counted from them (leave it out, or record "
			    "titles with POST /v1/titles)",
			    year, (long long)n, title_kind_names[k], f);
			return 1;
		}
	}
	return STORE_OK;
}

void
api_population(struct http_api *h, struct evhttp_request *req, const char *rest,
    const char *who)
{
	int64_t den[RECORDS_NPOP];
	unsigned keep = 0;
	int year, rc;

	if (api_parse_year(rest, &year) != 0) {
		api_send_error(req, 400, "invalid_field", "year",
		    "year must be %d..%d", RULES_YEAR_MIN, RULES_YEAR_MAX);
		return;
	}
	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
		struct store_txn *t = store_begin(h->st, 0);

		rc = t ? records_get_population(t, year, den) : STORE_EIO;
		store_abort(&t);
		if (rc == STORE_OK)
			api_send_json(req, 200, population_obj(year, den));
		else if (rc == STORE_NOTFOUND)
			api_send_error(req, 404, "not_found", NULL,
			    "no population recorded for %d", year);
		else
			api_send_store_error(req, rc);
	} else {
		struct records_actor act = api_actor(h, who);
		struct store_txn *t;
		struct input_err e;
		json_error_t jerr;
		size_t len;
		const char *body = api_body_of(h, req, &len);
		json_t *doc;

		if (body == NULL)
			return;
		if ((doc = json_loadb(
		         body, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
			api_send_bad_json(req, &jerr);
			return;
		}
		rc = input_population(doc, den, &e);
		if (rc != 0) {
			json_decref(doc);
			api_send_error(
			    req, 400, e.code, e.field, "%s", e.message);
			return;
		}
		t = committer_txn(h->cm);
		rc = t ? titles_kept(h, req, t, year, doc, &keep) : STORE_EIO;
		json_decref(doc);
		if (rc == 1)
			return; /* answered 409 */
		if (rc == STORE_OK)
			rc = records_put_population(t, &act, year, den, keep);
		if (rc == STORE_OK &&
		    records_get_population(t, year, den) == STORE_OK)
			api_reply_after_commit(
			    h, req, 200, population_obj(year, den));
		else
			api_send_write_error(
			    req, rc ? rc : STORE_EIO, year, "population", NULL);
	}
}
