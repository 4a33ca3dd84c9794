/*
 * lang.c: the language cdht speaks (Vietnamese by default, English with
 * --lang en or an English LC_ALL / LANG), and the localised meaning of
 * every error code the node answers with.  The node's message and field are
 * printed as it sent them, after this text: they carry the detail.
 */
#include <stdlib.h>
#include <string.h>

#include "cdht.h"

int cli_lang = CLI_VI;

int
cli_lang_pick(const char *arg)
{
	const char *env;

	if (arg != NULL) {
		if (strcmp(arg, "vi") == 0)
			return CLI_VI;
		if (strcmp(arg, "en") == 0)
			return CLI_EN;
		return -1;
	}
	if ((env = getenv("LC_ALL")) == NULL || *env == '\0')
		env = getenv("LANG");
	return env != NULL && strncmp(env, "en", 2) == 0 ? CLI_EN : CLI_VI;
}

/* The node's error codes (README "HTTP API"), vi then en. */
static const struct {
	const char *code, *text[2];
} lang_errors[] = {
    {"bad_request", {"yêu cầu không hợp lệ", "bad request"}},
    {"bad_json", {"JSON không hợp lệ", "malformed JSON"}},
    {"invalid_field", {"giá trị không hợp lệ", "invalid value"}},
    {"missing_field", {"thiếu thông tin bắt buộc", "required field missing"}},
    {"unknown_field", {"trường hoặc cột không xác định", "unknown field"}},
    {"duplicate_row", {"dòng lặp lại (cùng năm và mã người)",
                          "repeated row (same year and person id)"}},
    {"not_found", {"không tìm thấy", "not found"}},
    {"unauthorized", {"chưa có mã truy cập (token) hợp lệ", "no valid token"}},
    {"forbidden",
        {"mã truy cập không có quyền này", "the token lacks this role"}},
    {"method_not_allowed",
        {"thao tác không được hỗ trợ", "method not allowed"}},
    {"unsupported_media_type",
        {"định dạng dữ liệu không được hỗ trợ", "unsupported media type"}},
    {"too_large", {"dữ liệu quá lớn", "too large"}},
    {"storage_full", {"bộ nhớ của máy chủ đã đầy, chưa lưu gì",
                         "the node's storage is full, nothing stored"}},
    {"internal", {"lỗi nội bộ của máy chủ", "internal error"}},
    {"not_eligible", {"có mã không thể đưa vào quyết định, chưa lưu gì",
                         "some ids cannot be decided, nothing stored"}},
    {"decided", {"đã có trong một quyết định công nhận",
                    "listed by a recorded decision"}},
    {"exists", {"số quyết định này đã được ghi cho năm này",
                   "this decision number is already recorded that year"}},
    {"year_filed", {"năm này đã chốt sổ (đã nộp báo cáo), không sửa được",
                       "the year is filed: no changes"}},
    {"not_all_filed", {"còn đơn vị cấp dưới chưa chốt sổ",
                          "some units below have not filed"}},
    {"not_filed", {"năm này chưa chốt sổ", "the year is not filed"}},
    {"history_imported",
        {"năm này dùng số liệu nhập từ báo cáo, không nhận hồ sơ",
            "the year holds imported results: no records"}},
    {"has_records", {"năm này đã có hồ sơ ở đơn vị, không nhập số liệu "
                     "tổng hợp được",
                        "the year has records here: no imported results"}},
    {"title_records",
        {"số liệu này được đếm từ hồ sơ danh hiệu, không nhập tay",
            "counted from the title records, not set by hand"}},
};

const char *
cli_error_text(const char *code)
{
	if (code == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(lang_errors) / sizeof(lang_errors[0]);
	     i++)
		if (strcmp(code, lang_errors[i].code) == 0)
			return lang_errors[i].text[cli_lang];
	return NULL;
}
