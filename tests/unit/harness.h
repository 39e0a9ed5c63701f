/* harness.h - a small assertion harness for unit tests.
 *
 * A test is `DEFINE_TEST(test_topic_case) { ... }` at the start of a line
 * in a tests/unit C file; the Makefile collects them into the list.  Each test
 * runs in its own fresh work folder (the current directory), removed when
 * it passes and kept, with its path printed, when it fails.
 */
#ifndef KC_HARNESS_H
#define KC_HARNESS_H

#include <stdio.h>
#include <string.h>

#define DEFINE_TEST(name) void name(void); void name(void)

extern int kc_test_failures;
void kc_test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Absolute path of tests/unit/data (fixtures shipped with the tests). */
const char *kc_test_data(void);
/* tests/unit/data/REL parsed as JSON (a failed CHECK and NULL when it
 * cannot be read or parsed); the caller deletes it. */
struct cJSON;
struct cJSON *kc_test_load_json(const char *rel);

#define CHECK(cond) do { if (!(cond)) \
	kc_test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); } while (0)
#define CHECK_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
	if (a_ != b_) kc_test_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", \
	#a, a_, #b, b_); } while (0)
#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
	if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) \
	kc_test_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a, \
	a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)

#endif
