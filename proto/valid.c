/* valid.c: the shared field rules of valid.h; pure functions. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "valid.h"

const char *const valid_level_names[VALID_NLEVELS] = {
    "commune", "district", "province", "national", "agency"};

const char *const *const valid_denominator_names =
    &cdht_counter_names[CDHT_C_FIRST_DENOMINATOR];

/*
 * The well-formed UTF-8 character at s[0..n) (n >= 1): its length, or 0
 * with *why saying what is wrong with its first byte.
 */
static size_t
utf8_char(const unsigned char *s, size_t n, const char **why)
{
	unsigned char c = s[0];
	size_t k;
	unsigned long cp;

	if (c < 0x80)
		return 1;
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
		*why = c < 0xc0   ? "a UTF-8 continuation byte out of place"
		       : c < 0xc2 ? "an overlong UTF-8 form"
		                  : "a byte that is never UTF-8";
		return 0;
	}
	for (size_t j = 1; j <= k; j++) {
		if (j >= n || (s[j] & 0xc0) != 0x80) {
			*why = "a truncated UTF-8 sequence";
			return 0;
		}
		cp = cp << 6 | (s[j] & 0x3f);
	}
	if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000)) {
		*why = "an overlong UTF-8 form";
		return 0;
	}
	if (cp >= 0xd800 && cp <= 0xdfff) {
		*why = "a UTF-16 surrogate (U+D800..U+DFFF)";
		return 0;
	}
	if (cp > 0x10ffff) {
		*why = "a code point above U+10FFFF";
		return 0;
	}
	return k + 1;
}

const char *
valid_utf8_why(const char *str, size_t n, size_t *at)
{
	const unsigned char *s = (const unsigned char *)str;
	const char *why = NULL;
	size_t i = 0, k;

	while (i < n) {
		if ((k = utf8_char(s + i, n - i, &why)) == 0) {
			if (at != NULL)
				*at = i;
			return why;
		}
		i += k;
	}
	return NULL;
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
valid_decision_number(const char *s, size_t n)
{
	return n >= 1 && n <= VALID_DECISION_MAX ? valid_text(s, n) : -1;
}

int
valid_date(const char *s, size_t n)
{
	static const int mdays[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y = 0, m, d;

	if (n != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (size_t i = 0; i < n; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	for (int i = 0; i < 4; i++)
		y = y * 10 + (s[i] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 2000 || y > 2099 || m < 1 || m > 12 || d < 1)
		return -1;
	if (m == 2 && y % 4 == 0) /* 2000..2099: every fourth year */
		return d <= 29 ? 0 : -1;
	return d <= mdays[m - 1] ? 0 : -1;
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
valid_report_year(long long y)
{
	return y >= VALID_REPORT_YEAR_MIN && y <= VALID_YEAR_MAX ? 0 : -1;
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

size_t
valid_quote(char *dst, size_t cap, const char *src, size_t n)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0, keep = 0; /* keep: the last cut "..." fits after */

	if (cap == 0)
		return 0;
	while (i < n) {
		const char *why;
		size_t k = utf8_char(s + i, n - i, &why);
		int esc = k == 0 || s[i] < 0x20 || s[i] == 0x7f;
		size_t w = esc ? 4 : k;

		if (o + w > cap - 1) {
			if (cap - 1 >= 3) {
				memcpy(dst + keep, "...", 3);
				o = keep + 3;
			}
			break;
		}
		if (esc) {
			snprintf(dst + o, 5, "\\x%02x", s[i]);
			i++;
		} else {
			memcpy(dst + o, s + i, k);
			i += k;
		}
		o += w;
		if (o + 3 <= cap - 1)
			keep = o;
	}
	dst[o] = '\0';
	return o;
}

const struct valid_label valid_labels[] = {
    {"group", "farmer", "nông dân"},
    {"group", "worker", "công nhân"},
    {"group", "official", "công chức, viên chức"},
    {"group", "official", "công chức"},
    {"group", "official", "viên chức"},
    {"group", "business", "doanh nhân"},
    {"group", "manager", "cán bộ quản lý"},
    {"population", "adult", "người lớn"},
    {"population", "staff", "cán bộ, công chức, viên chức, người lao động"},
    {"population", "staff", "cán bộ, công chức, viên chức"},
    {"population", "staff", "người lao động"},
    {"digital", "none", "không"},
    {"digital", "none", "chưa có"},
    {"digital", "skilled", "có kỹ năng số"},
    {"digital", "skilled", "có kĩ năng số"},
    {"digital", "proficient", "thành thạo kỹ năng số"},
    {"digital", "proficient", "thành thạo kĩ năng số"},
    {NULL, NULL, NULL},
};

/* s[0..n) equals label, ignoring the case of ASCII letters. */
static int
valid_label_eq(const char *s, size_t n, const char *label)
{
	size_t i;

	for (i = 0; i < n && label[i] != '\0'; i++) {
		unsigned char a = (unsigned char)s[i],
		              b = (unsigned char)label[i];

		if (a >= 'A' && a <= 'Z')
			a = (unsigned char)(a - 'A' + 'a');
		if (a != b)
			return 0;
	}
	return i == n && label[i] == '\0';
}

const char *
valid_label_code(const char *column, const char *s, size_t n)
{
	const char *code = NULL;

	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	for (const struct valid_label *l = valid_labels; l->column; l++) {
		if (strcmp(l->column, column) != 0)
			continue;
		if ((strlen(l->code) == n && memcmp(l->code, s, n) == 0) ||
		    valid_label_eq(s, n, l->label)) {
			code = l->code;
			break;
		}
	}
	return code;
}

const char *
valid_label_of(const char *column, const char *code)
{
	for (const struct valid_label *l = valid_labels; l->column; l++)
		if (strcmp(l->column, column) == 0 &&
		    strcmp(l->code, code) == 0)
			return l->label;
	return NULL;
}
