/*
 * fuzz_json.c: libFuzzer target for the JSON bodies clients send: an
 * assessment (POST /v1/assessments, one object or an array of them) and a
 * year's denominators (PUT /v1/population/Y), parsed as the handlers parse
 * them (daemon/api_assess.c, api_population.c): json_loadb with the same
 * flags, then input_assessment (at a commune and at a province) or
 * input_population (daemon/input.h).
 *
 * Checks on every input:
 *  - every rejection, from jansson (bad_json, with the handlers' message
 *    format) or from input.c, passes fuzz_check_error: a documented code, a
 *    field when the code needs one, message and field well-formed UTF-8, and
 *    jansson builds {"error": {"code", "message", "field"}} from it;
 *  - every accepted assessment holds what the rules allow (input-accept):
 *    year, person id, name, birth year, the enumerations, ten scores 1..10,
 *    "adult" only at a commune;
 *  - every accepted population holds 0..10^12 per field and no
 *    *_recognized above its total;
 *  - whatever input_assessment_text (the handler's read without jansson)
 *    accepts, at a commune or a province, jansson and input_assessment
 *    accept into the same struct (text-same-as-json).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "fuzz_common.h"
#include "input.h"
#include "rules.h"
#include "valid.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

/* The handlers' bad_json reply, built by the function they use. */
static void
check_bad_json(const char *what, const json_error_t *jerr)
{
	char msg[512];

	fuzz_check_error(what, "bad_json",
	    input_bad_json_message(msg, sizeof(msg), jerr), NULL);
}

static void
check_assessment(const struct assessment *a, int level)
{
	FUZZ_CHECK(
	    valid_year(a->year) == 0, "input-accept", "year %d", a->year);
	FUZZ_CHECK(valid_person_id(a->person_id, a->pid_len) == 0 &&
	               memchr(a->person_id, '\0', a->pid_len) == NULL,
	    "input-accept", "person_id not valid");
	FUZZ_CHECK(valid_person_name(a->name, strlen(a->name)) == 0,
	    "input-accept", "name not valid");
	FUZZ_CHECK(a->birth_year == 0 ||
	               (a->birth_year >= 1900 && a->birth_year <= a->year),
	    "input-accept", "birth_year %d", a->birth_year);
	FUZZ_CHECK(a->group < GROUP_COUNT && a->population <= POP_STAFF &&
	               a->digital <= DIGITAL_PROFICIENT,
	    "input-accept", "enumeration out of range");
	FUZZ_CHECK(a->population != POP_ADULT || level == LEVEL_COMMUNE,
	    "input-accept", "adult accepted at level %d", level);
	for (int i = 0; i < RULES_NSCORES; i++)
		FUZZ_CHECK(valid_score(a->scores[i]) == 0, "input-accept",
		    "scores[%d] = %d", i, a->scores[i]);
}

/* One object (or array item) through input_assessment at a level. */
static void
one_assessment(const json_t *obj, int level, const char *what)
{
	struct assessment a;
	struct input_err e;

	memset(&e, 0, sizeof(e));
	if (input_assessment(obj, level, &a, &e) != 0)
		fuzz_check_error(what, e.code, e.message, e.field);
	else
		check_assessment(&a, level);
}

static void
population(const json_t *doc)
{
	int64_t den[RECORDS_NPOP];
	struct input_err e;

	memset(&e, 0, sizeof(e));
	if (input_population(doc, den, &e) != 0) {
		fuzz_check_error(
		    "input_population", e.code, e.message, e.field);
		return;
	}
	for (int i = 0; i < RECORDS_NPOP; i++)
		FUZZ_CHECK(den[i] >= 0 && den[i] <= 1000000000000LL,
		    "input-accept", "population %s = %lld",
		    valid_denominator_names[i], (long long)den[i]);
	FUZZ_CHECK(rules_check_population(den) == NULL, "input-accept",
	    "population accepted with %s above its total",
	    rules_check_population(den));
}

/* The read without jansson against the read with it, at a level. */
static void
text_same_as_json(const uint8_t *data, size_t size, int level)
{
	struct assessment fa, ja;
	struct input_err e;
	json_error_t jerr;
	json_t *doc;

	if (input_assessment_text((const char *)data, size, level, &fa) != 0)
		return;
	doc = json_loadb((const char *)data, size,
	    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	FUZZ_CHECK(doc != NULL, "text-same-as-json",
	    "read without jansson, refused by it: %s", jerr.text);
	FUZZ_CHECK(input_assessment(doc, level, &ja, &e) == 0,
	    "text-same-as-json", "read without jansson, refused: %s",
	    e.message);
	FUZZ_CHECK(memcmp(&fa, &ja, sizeof(fa)) == 0, "text-same-as-json",
	    "the two reads differ");
	json_decref(doc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *doc;

	text_same_as_json(data, size, LEVEL_COMMUNE);
	text_same_as_json(data, size, LEVEL_PROVINCE);

	/* POST /v1/assessments */
	doc = json_loadb((const char *)data, size,
	    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (doc == NULL)
		check_bad_json("POST /v1/assessments", &jerr);
	else if (json_is_array(doc)) {
		size_t i;
		json_t *item;

		json_array_foreach(doc, i, item)
		    one_assessment(item, LEVEL_COMMUNE, "array item");
	} else if (json_is_object(doc)) {
		one_assessment(
		    doc, LEVEL_COMMUNE, "input_assessment (commune)");
		one_assessment(
		    doc, LEVEL_PROVINCE, "input_assessment (province)");
	}
	json_decref(doc);

	/* PUT /v1/population/Y */
	doc =
	    json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL)
		check_bad_json("PUT /v1/population", &jerr);
	else
		population(doc);
	json_decref(doc);
	return 0;
}
