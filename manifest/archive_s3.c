/* archive_s3.c - S3 backend (in progress). */
#include "manifest/archive_int.h"
#include "util/err.h"

int
kc_archive_s3_open(struct kc_archive *a, const struct kc_archive_opts *o)
{
	(void)a; (void)o;
	return kc_err_set(KC_ERR_CONFIG, "the S3 backend is not built yet");
}

const struct archive_backend kc_archive_s3 = { NULL, NULL, NULL, NULL, NULL, NULL };
