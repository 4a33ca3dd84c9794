/* valid.c: the shared field rules of valid.h; pure functions. */
#include <stdint.h>
#include <string.h>

#include "valid.h"

const char *const valid_level_names[VALID_NLEVELS] = {
    "commune", "district", "province", "national"};

const char *const *const valid_denominator_names =
    &cdht_counter_names[CDHT_C_FIRST_DENOMINATOR];

const char *
valid_utf8_why(const char *str, size_t n, size_t *at)
{
	const unsigned char *s = (const unsigned char *)str;
	const char *why = NULL;
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t k;
		unsigned long cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else {
			why = c < 0xc0
			          ? "a UTF-8 continuation byte out of place"
			      : c < 0xc2 ? "an overlong UTF-8 form"
			                 : "a byte that is never UTF-8";
			break;
		}
		for (size_t j = 1; j <= k; j++) {
			if (i + j >= n || (s[i + j] & 0xc0) != 0x80) {
				why = "a truncated UTF-8 sequence";
				break;
			}
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if (why != NULL)
			break;
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000)) {
			why = "an overlong UTF-8 form";
			break;
		}
		if (cp >= 0xd800 && cp <= 0xdfff) {
			why = "a UTF-16 surrogate (U+D800..U+DFFF)";
			break;
		}
		if (cp > 0x10ffff) {
			why = "a code point above U+10FFFF";
			break;
		}
		i += k + 1;
	}
	if (why != NULL && at != NULL)
		*at = i;
	return why;
}

int
valid_utf8(const char *s, size_t n)
{
	return valid_utf8_why(s, n, NULL) == NULL ? 0 : -1;
}

const char *
valid_text_why(const char *s, size_t n, size_t *at)
{
	size_t bad = n;
	const char *why = valid_utf8_why(s, n, &bad);

	/* a control character before the first UTF-8 error comes first */
	for (size_t i = 0; i < bad; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			if (at != NULL)
				*at = i;
			return "a control character";
		}
	if (why != NULL && at != NULL)
		*at = bad;
	return why;
}

int
valid_text(const char *s, size_t n)
{
	return valid_text_why(s, n, NULL) == NULL ? 0 : -1;
}

int
valid_id(const char *s, size_t n)
{
	if (n < 1 || n > WIRE_MAX_ID)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
		        (c >= 'a' && c <= 'z') || c == '_' || c == '-'))
			return -1;
	}
	return 0;
}

int
valid_unit_name(const char *s, size_t n)
{
	return n <= WIRE_MAX_NAME ? valid_text(s, n) : -1;
}

int
valid_person_id(const char *s, size_t n)
{
	return n >= 1 && n <= VALID_PID_MAX ? valid_text(s, n) : -1;
}

int
valid_person_name(const char *s, size_t n)
{
	return n <= VALID_PERSON_NAME_MAX ? valid_text(s, n) : -1;
}

int
valid_level(const char *s, size_t n)
{
	for (int i = 0; i < VALID_NLEVELS; i++)
		if (strlen(valid_level_names[i]) == n &&
		    memcmp(valid_level_names[i], s, n) == 0)
			return i;
	return -1;
}

int
valid_year(long long y)
{
	return y >= VALID_YEAR_MIN && y <= VALID_YEAR_MAX ? 0 : -1;
}

int
valid_score(long long v)
{
	return v >= VALID_SCORE_MIN && v <= VALID_SCORE_MAX ? 0 : -1;
}

int
valid_z85_key(const char *s, size_t n)
{
	static const char z85[] =
	    "0123456789abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

	if (n != VALID_Z85_KEY_LEN)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\0' || strchr(z85, s[i]) == NULL)
			return -1;
	/* every 5-character group must decode to 32 bits */
	for (size_t g = 0; g < n; g += 5) {
		uint64_t v = 0;

		for (size_t i = 0; i < 5; i++)
			v = v * 85 + (uint64_t)(strchr(z85, s[g + i]) - z85);
		if (v > UINT32_MAX)
			return -1;
	}
	return 0;
}
