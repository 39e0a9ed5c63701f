/* test_exports.c - the YAML exports on a thread of their own
 * (pipeline/exports.h, issue 11): written from the raw pages beside the
 * caller, their members noted where the manifest had them when they were
 * written before the analysis, an export's own failure raised again on
 * the caller's thread, and a cancelled job adding nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector/collect.h"
#include "harness.h"
#include "pipeline/exports.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/json.h"

static void
page(struct kc_collect *co, const char *res, const char *name, const char *text)
{
	char path[600], folder[512];

	snprintf(folder, sizeof(folder), "raw/%s", res);
	snprintf(path, sizeof(path), "%s/%s", folder, name);
	CHECK_INT(kc_mkdir_p(folder, 0755), 0);
	CHECK_INT(kc_write_file_atomic(path, text, strlen(text), 0644), 0);
	CHECK_INT(kc_collect_note_file(co, path, "application/json", 0, NULL), 0);
}

static const char *
path_at(const struct kc_collect *co, int i)
{
	return kc_json_str0(cJSON_GetArrayItem(co->files, i), "path");
}

#define ROLE(n) "{\"metadata\":{\"name\":\"" n "\",\"namespace\":\"a\"},\"rules\":[]}"

static void
estate(struct kc_collect *co, const char *pods_page)
{
	static char dot[] = ".";

	memset(co, 0, sizeof(*co));
	co->staging = dot;
	CHECK((co->files = cJSON_CreateArray()) != NULL);
	page(co, "roles", "page-0001.json", "{\"kind\":\"RoleList\",\"items\":[" ROLE("r1") "," ROLE("r2") "]}");
	page(co, "roles", "page-0002.json", "{\"kind\":\"RoleList\",\"items\":[" ROLE("r3") "]}");
	page(co, "pods", "page-0001.json", pods_page);
}

DEFINE_TEST(test_exports_beside_in_order)
{
	struct kc_collect co;
	struct kc_exports_job *job = NULL;
	const cJSON *fe, *src;
	struct kc_buf b = KC_BUF_INIT(1 << 20);
	int64_t wall = -1, cpu = -1;

	estate(&co, "{\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"name\":\"p\",\"namespace\":\"a\"}}]}");
	CHECK_INT(kc_exports_start(&co, &job), 0);
	/* the caller keeps noting its own members meanwhile */
	CHECK_INT(kc_collect_note_file(&co, "analysis/summary.json", "application/json", 1, NULL), 0);
	CHECK_INT(kc_collect_note_file(&co, "reviews/a/x.json", "application/json", 0, NULL), 0);
	CHECK_INT(kc_exports_finish(&co, job, 0, 3, &wall, &cpu), 0);
	CHECK(wall >= 0 && cpu >= 0);
	/* the lists', then the exports in the table's order (no page: no
	 * export), then the caller's, in its order */
	CHECK_INT(cJSON_GetArraySize(co.files), 7);
	CHECK_STR(path_at(&co, 2), "raw/pods/page-0001.json");
	CHECK_STR(path_at(&co, 3), "exports/roles.yaml");
	CHECK_STR(path_at(&co, 4), "exports/pods.yaml");
	CHECK_STR(path_at(&co, 5), "analysis/summary.json");
	CHECK_STR(path_at(&co, 6), "reviews/a/x.json");
	fe = cJSON_GetArrayItem(co.files, 3);
	CHECK(cJSON_IsTrue(kc_json_get(fe, "derived")));
	CHECK_STR(kc_json_str0(fe, "transform"), "kubectl-list-yaml");
	CHECK_STR(kc_json_str0(fe, "equivalent"), "kubectl get roles -A -o yaml --show-managed-fields");
	CHECK_INT(kc_json_get(fe, "objects")->valueint, 3);
	src = kc_json_get(fe, "sources");
	CHECK_INT(cJSON_GetArraySize(src), 2);
	CHECK_STR(cJSON_GetArrayItem(src, 1)->valuestring, "raw/roles/page-0002.json");
	CHECK_INT(kc_read_file("exports/roles.yaml", 1 << 20, &b), 0);
	kc_buf_addf(&b, "%c", '\0');
	CHECK(strstr(b.data, "kind: Role\n") != NULL && strstr(b.data, "name: r3") != NULL);
	CHECK(access("exports/clusterroles.yaml", F_OK) != 0);
	kc_buf_free(&b);
	cJSON_Delete(co.files);
}

/* The twins: a page the worker cannot parse fails the job, on the
 * caller's thread, with the page named, and nothing is noted or left
 * behind; a cancelled job adds nothing. */
DEFINE_TEST(test_exports_beside_failure_and_cancel)
{
	struct kc_collect co;
	struct kc_exports_job *job = NULL;

	estate(&co, "{\"kind\":\"PodList\",\"items\":[{\"metadata\":");
	CHECK_INT(kc_exports_start(&co, &job), 0);
	kc_err_clear();
	/* the caller learns of the failure before its next step */
	for (int i = 0; i < 5000 && !kc_exports_failed(job); i++)
		usleep(1000);
	CHECK_INT(kc_exports_failed(job), 1);
	CHECK_INT(kc_err_code(), 0);	/* not raised on the caller's thread yet */
	CHECK_INT(kc_collect_note_file(&co, "analysis/summary.json", "application/json", 1, NULL), 0);
	CHECK_INT(kc_exports_finish(&co, job, 0, 3, NULL, NULL), KC_ERR_PARSE);
	CHECK_INT(kc_err_code(), KC_ERR_PARSE);
	CHECK(strstr(kc_err_msg(), "raw/pods/page-0001.json") != NULL);
	CHECK_INT(cJSON_GetArraySize(co.files), 4);
	CHECK_STR(path_at(&co, 3), "analysis/summary.json");
	CHECK(access("exports/pods.yaml", F_OK) != 0);
	kc_err_clear();
	cJSON_Delete(co.files);

	CHECK_INT(system("rm -rf raw exports"), 0);
	estate(&co, "{\"kind\":\"PodList\",\"items\":[]}");
	CHECK_INT(kc_exports_start(&co, &job), 0);
	CHECK_INT(kc_exports_failed(job), 0);
	CHECK_INT(kc_exports_finish(&co, job, 1, 3, NULL, NULL), 0);
	CHECK_INT(cJSON_GetArraySize(co.files), 3);
	CHECK_INT(kc_exports_finish(&co, NULL, 0, 3, NULL, NULL), 0);	/* no job: a no-op */
	CHECK_INT(kc_exports_failed(NULL), 0);
	cJSON_Delete(co.files);
}

/* Follow mode (kc_exports_start_follow): each export is written from its
 * list's pages as the list writes them, before the lists are over; the
 * result is the export made after them.  A list that starts over (410)
 * gives the export of its last run only; one that ends without pages
 * (refused, failed) gives none, and no error; a job cancelled while it
 * waits on a list stops. */
static void
wait_for(const char *path, int want)
{
	for (int i = 0; i < 5000 && (access(path, F_OK) == 0) != want; i++)
		usleep(1000);
}

static char *
slurp(const char *path)
{
	struct kc_buf b = KC_BUF_INIT(1 << 20);

	if (kc_read_file(path, 1 << 20, &b) != 0)
		return NULL;
	kc_buf_addf(&b, "%c", '\0');
	return kc_buf_take(&b, NULL);
}

DEFINE_TEST(test_exports_follow_lists)
{
	static char dot[] = ".";
	struct kc_list_progress pg;
	struct kc_collect co;
	struct kc_exports_job *job = NULL;
	char *followed, *after;

	memset(&co, 0, sizeof(co));
	co.staging = dot;
	CHECK((co.files = cJSON_CreateArray()) != NULL);
	CHECK_INT(kc_list_progress_init(&pg), 0);
	CHECK_INT(kc_exports_start_follow(".", &pg, &job), 0);
	/* roles: a first run of one page, then 410: started over */
	page(&co, "roles", "page-0001.json", "{\"kind\":\"RoleList\",\"items\":[" ROLE("old") "]}");
	kc_list_progress_page(&pg, KC_RES_ROLES, 1);
	usleep(20000);
	kc_list_progress_restart(&pg, KC_RES_ROLES);
	CHECK_INT(unlink("raw/roles/page-0001.json"), 0);
	cJSON_Delete(co.files);
	CHECK((co.files = cJSON_CreateArray()) != NULL);
	page(&co, "roles", "page-0001.json", "{\"kind\":\"RoleList\",\"items\":[" ROLE("r1") "," ROLE("r2") "]}");
	kc_list_progress_page(&pg, KC_RES_ROLES, 1);
	page(&co, "roles", "page-0002.json", "{\"kind\":\"RoleList\",\"items\":[" ROLE("r3") "]}");
	kc_list_progress_page(&pg, KC_RES_ROLES, 2);
	kc_list_progress_end(&pg, KC_RES_ROLES, 1);
	/* rolebindings: a page, then refused: its page goes, no export */
	page(&co, "rolebindings", "page-0001.json", "{\"kind\":\"RoleBindingList\",\"items\":[]}");
	kc_list_progress_page(&pg, KC_RES_ROLEBINDINGS, 1);
	kc_list_progress_end(&pg, KC_RES_ROLEBINDINGS, 0);
	CHECK_INT(unlink("raw/rolebindings/page-0001.json"), 0);
	cJSON_DeleteItemFromArray(co.files, cJSON_GetArraySize(co.files) - 1);
	kc_list_progress_end(&pg, KC_RES_CLUSTERROLES, 0);
	kc_list_progress_end(&pg, KC_RES_CLUSTERROLEBINDINGS, 0);
	kc_list_progress_end(&pg, KC_RES_SERVICEACCOUNTS, 0);
	/* the roles' export is written while the pods' list still runs */
	wait_for("exports/roles.yaml", 1);
	CHECK(access("exports/roles.yaml", F_OK) == 0);
	page(&co, "pods", "page-0001.json", "{\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"name\":\"p\",\"namespace\":\"a\"}}]}");
	kc_list_progress_page(&pg, KC_RES_PODS, 1);
	kc_list_progress_end(&pg, KC_RES_PODS, 1);
	kc_list_progress_close(&pg);
	CHECK_INT(kc_exports_finish(&co, job, 0, 3, NULL, NULL), 0);
	CHECK_INT(kc_err_code(), 0);
	CHECK_INT(cJSON_GetArraySize(co.files), 5);
	CHECK_STR(path_at(&co, 3), "exports/roles.yaml");
	CHECK_STR(path_at(&co, 4), "exports/pods.yaml");
	CHECK_INT(kc_json_get(cJSON_GetArrayItem(co.files, 3), "objects")->valueint, 3);
	CHECK(access("exports/rolebindings.yaml", F_OK) != 0);
	CHECK((followed = slurp("exports/roles.yaml")) != NULL);
	CHECK(strstr(followed, "name: r3") != NULL && strstr(followed, "name: old") == NULL);
	/* the twin: the same pages exported after the lists, as before */
	CHECK_INT(system("rm -rf exports"), 0);
	cJSON_Delete(co.files);
	CHECK((co.files = cJSON_CreateArray()) != NULL);
	CHECK_INT(kc_collect_note_file(&co, "raw/roles/page-0001.json", "application/json", 0, NULL), 0);
	CHECK_INT(kc_collect_note_file(&co, "raw/roles/page-0002.json", "application/json", 0, NULL), 0);
	CHECK_INT(kc_collect_note_file(&co, "raw/pods/page-0001.json", "application/json", 0, NULL), 0);
	CHECK_INT(kc_exports_start(&co, &job), 0);
	CHECK_INT(kc_exports_finish(&co, job, 0, 3, NULL, NULL), 0);
	CHECK((after = slurp("exports/roles.yaml")) != NULL);
	CHECK(followed != NULL && after != NULL && strcmp(followed, after) == 0);
	free(followed);
	free(after);
	cJSON_Delete(co.files);
	kc_list_progress_destroy(&pg);
}

DEFINE_TEST(test_exports_follow_cancel_and_close)
{
	static char dot[] = ".";
	struct kc_list_progress pg;
	struct kc_collect co;
	struct kc_exports_job *job = NULL;

	memset(&co, 0, sizeof(co));
	co.staging = dot;
	CHECK((co.files = cJSON_CreateArray()) != NULL);
	/* cancelled while it waits on the first list: it stops, adds nothing */
	CHECK_INT(kc_list_progress_init(&pg), 0);
	CHECK_INT(kc_exports_start_follow(".", &pg, &job), 0);
	usleep(20000);
	CHECK_INT(kc_exports_finish(&co, job, 1, 0, NULL, NULL), 0);
	CHECK_INT(cJSON_GetArraySize(co.files), 0);
	kc_list_progress_destroy(&pg);
	/* the lists over with none run (the run stopped): no export, no error */
	CHECK_INT(kc_list_progress_init(&pg), 0);
	CHECK_INT(kc_exports_start_follow(".", &pg, &job), 0);
	kc_list_progress_close(&pg);
	CHECK_INT(kc_exports_finish(&co, job, 0, 0, NULL, NULL), 0);
	CHECK_INT(cJSON_GetArraySize(co.files), 0);
	/* and no empty exports/ folder (made before it knew; as after the
	 * lists: no page, no folder) */
	CHECK(access("exports", F_OK) != 0);
	kc_list_progress_destroy(&pg);
	cJSON_Delete(co.files);
}
