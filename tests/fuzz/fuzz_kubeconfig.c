/* fuzz_kubeconfig.c - kubeconfig loading (collector/kubeconfig.c) as
 * collect does it: kc_kubeconfig_load on --kubeconfig FILE, or, when the
 * input holds a line "#%merge", the two halves as KUBECONFIG=a:b (the
 * kubectl merge).  Referenced files are resolved against the scratch
 * folder, which holds the certificates of tests/unit/data/kubeconfig as
 * the seeds name them (certs/ca.crt, ca.crt, ...); in-cluster paths point
 * into it as well.  Exec plugins are configured, never run. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "collector/kubeconfig.h"
#include "tests/fuzz/fuzz_common.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fsutil.h"

#ifndef FUZZ_TOP
#define FUZZ_TOP "."
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
setup(void)
{
	static const char *const files[][2] = {
		{ "certs/ca.crt", "certs/ca.crt" }, { "certs/client.crt", "certs/client.crt" },
		{ "certs/client.key", "certs/client.key" }, { "merge/a/ca.crt", "ca.crt" },
	};
	char *dir = fz_path("certs");

	kc_mkdir_p(dir, 0700);
	free(dir);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct kc_buf b = KC_BUF_INIT(1u << 20);
		char *src;

		if (asprintf(&src, "%s/tests/unit/data/kubeconfig/%s", FUZZ_TOP, files[i][0]) < 0)
			abort();
		if (kc_read_file(src, b.max, &b) == 0)
			free(fz_write(files[i][1], b.data, b.len));
		kc_buf_free(&b);
		free(src);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kc_kubeconfig_opts o = { 0 };
	struct kc_cluster_cfg *cfg = NULL;
	const uint8_t *a, *b;
	size_t an, bn;
	char *pa, *pb = NULL, *list = NULL;

	static int ready;

	if (size > KC_KUBECONFIG_MAX)
		return -1;
	if (!ready) {
		setup();
		ready = 1;
	}
	o.in_cluster_root = fz_dir();
	fz_split(data, size, "\n#%merge\n", &a, &an, &b, &bn);
	pa = fz_write("config", a, an);
	if (a + an == data + size) {
		unsetenv("KUBECONFIG");
		o.kubeconfig = pa;
	} else {
		pb = fz_write("config2", b, bn);
		if (asprintf(&list, "%s:%s", pa, pb) < 0)
			abort();
		setenv("KUBECONFIG", list, 1);
	}
	if (kc_kubeconfig_load(&o, &cfg) == 0)
		kc_cluster_cfg_free(cfg);
	kc_err_clear();
	free(pa);
	free(pb);
	free(list);
	return 0;
}
