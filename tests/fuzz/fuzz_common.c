/* fuzz_common.c - scratch files for the harnesses (fuzz_common.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/fuzz/fuzz_common.h"
#include "util/fsutil.h"

static char scratch[4096];

static void
fz_cleanup(void)
{
	if (scratch[0] != '\0')
		kc_rm_rf(scratch);
}

const char *
fz_dir(void)
{
	const char *base;
	struct stat st;

	if (scratch[0] != '\0')
		return scratch;
	base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0 ?
	    "/dev/shm" : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(scratch, sizeof(scratch), "%s/kcfuzz.XXXXXX", base);
	if (mkdtemp(scratch) == NULL) {
		fprintf(stderr, "fuzz: cannot create a scratch folder under %s: %s\n", base,
		    strerror(errno));
		abort();
	}
	atexit(fz_cleanup);
	return scratch;
}

char *
fz_path(const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", fz_dir(), name) < 0)
		abort();
	return p;
}

char *
fz_write(const char *name, const void *data, size_t len)
{
	char *p = fz_path(name);
	const char *d = data;
	int fd;

	unlink(p);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		fprintf(stderr, "fuzz: cannot create %s: %s\n", p, strerror(errno));
		abort();
	}
	while (len > 0) {
		ssize_t n = write(fd, d, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "fuzz: cannot write %s: %s\n", p, strerror(errno));
			abort();
		}
		d += n;
		len -= (size_t)n;
	}
	close(fd);
	return p;
}

char *
fz_strndup(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);

	if (s == NULL)
		abort();
	if (len > 0)
		memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

void
fz_split(const uint8_t *data, size_t len, const char *sep, const uint8_t **a, size_t *an,
    const uint8_t **b, size_t *bn)
{
	size_t k = strlen(sep);
	const uint8_t *p = len >= k ? memmem(data, len, sep, k) : NULL;

	*a = data;
	if (p == NULL) {
		*an = len;
		*b = data + len;
		*bn = 0;
		return;
	}
	*an = (size_t)(p - data);
	*b = p + k;
	*bn = len - *an - k;
}
