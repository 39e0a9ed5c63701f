/* fuzz_s3_xml.c - reading S3 answers (manifest/archive_s3.c): a
 * ListObjectsV2 page as list_keys reads it (archive_s3_list_page), then
 * every leaf element the backend looks for, with the buffer sizes its
 * callers use: the error Code/Message, UploadId, ObjectLockEnabled, the
 * retention Mode and RetainUntilDate (parsed as RFC 3339, as read_lock
 * does) and the legal-hold Status.  The answer is a NUL-terminated kc_buf
 * in the backend; so it is here. */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "manifest/archive_int.h"
#include "tests/fuzz/fuzz_common.h"
#include "util/timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
first(const char *xml, const char *tag, size_t n)
{
	char *out = malloc(n);	/* exact size: ASan sees any overrun */
	const char *pos = NULL;

	if (out == NULL)
		abort();
	archive_s3_xml_next(xml, &pos, tag, out, n);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *xml, token[2048], date[64] = "";
	const char *pos = NULL;
	cJSON *keys;
	time_t t;
	long ns;

	if (size > (1u << 20))
		return -1;
	xml = fz_strndup(data, size);
	if ((keys = cJSON_CreateArray()) == NULL)
		abort();
	archive_s3_list_page(xml, keys, token, sizeof(token));
	cJSON_Delete(keys);
	first(xml, "Code", 128);
	first(xml, "Code", 64);
	first(xml, "Message", 256);
	first(xml, "UploadId", 1024);
	first(xml, "ObjectLockEnabled", 32);
	first(xml, "Mode", 32);
	first(xml, "Status", 16);
	if (archive_s3_xml_next(xml, &pos, "RetainUntilDate", date, sizeof(date)))
		kc_parse_rfc3339(date, &t, &ns);
	free(xml);
	return 0;
}
