#include <string.h>

#include "formats/inventory.h"
#include "util/err.h"
#include "util/json.h"

int
kc_csv_field(struct kc_buf *out, const char *s)
{
	int r = 0;

	if (strpbrk(s, ",\"\r\n") == NULL)
		return kc_buf_adds(out, s);
	r |= kc_buf_addc(out, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			r |= kc_buf_addc(out, '"');
		r |= kc_buf_addc(out, *s);
	}
	r |= kc_buf_addc(out, '"');
	return r ? KC_ERR_LIMIT : 0;
}

static int
list_field(struct kc_buf *out, const cJSON *arr)
{
	struct kc_buf cell = KC_BUF_INIT(16u << 20);
	const cJSON *it;
	int first = 1, r;

	cJSON_ArrayForEach(it, arr) {
		if (!cJSON_IsString(it))
			continue;
		if (!first)
			kc_buf_addc(&cell, ';');
		kc_buf_adds(&cell, it->valuestring);
		first = 0;
	}
	r = kc_csv_field(out, kc_buf_str(&cell));
	kc_buf_free(&cell);
	return r;
}

int
kc_inventory_csv(const cJSON *rows, struct kc_buf *out)
{
	if (kc_buf_adds(out, "namespace,name,pods,bindings,roles,cluster_wide_reach,"
	    "secrets_reachable,highest_severity,cloud_reach,owner_chains,agent_resources\r\n") != 0)
		return kc_err_set(KC_ERR_LIMIT, "inventory.csv too large");
	return kc_inventory_csv_rows(rows, out);
}

int
kc_inventory_csv_rows(const cJSON *rows, struct kc_buf *out)
{
	const cJSON *row;
	int r = 0;

	cJSON_ArrayForEach(row, rows) {
		r |= kc_csv_field(out, kc_json_str0(row, "namespace"));
		r |= kc_buf_addc(out, ',');
		r |= kc_csv_field(out, kc_json_str0(row, "name"));
		r |= kc_buf_addc(out, ',');
		r |= list_field(out, kc_json_get(row, "pods"));
		r |= kc_buf_addc(out, ',');
		r |= list_field(out, kc_json_get(row, "bindings"));
		r |= kc_buf_addc(out, ',');
		r |= list_field(out, kc_json_get(row, "roles"));
		r |= kc_buf_addc(out, ',');
		r |= kc_buf_adds(out, cJSON_IsTrue(kc_json_get(row, "clusterWide")) ?
		    "yes" : "no");
		r |= kc_buf_addc(out, ',');
		r |= list_field(out, kc_json_get(row, "secrets"));
		r |= kc_buf_addc(out, ',');
		r |= kc_csv_field(out, kc_json_str0(row, "highestSeverity"));
		r |= kc_buf_addc(out, ',');
		r |= list_field(out, kc_json_get(row, "cloudReach"));
		r |= kc_buf_addc(out, ',');
		r |= list_field(out, kc_json_get(row, "ownerChains"));
		r |= kc_buf_addc(out, ',');
		r |= list_field(out, kc_json_get(row, "agentResources"));
		r |= kc_buf_adds(out, "\r\n");
	}
	return r ? kc_err_set(KC_ERR_LIMIT, "inventory.csv too large") : 0;
}
