#include <string.h>

#include "collector/sensitive.h"

const char *const kc_sensitive_resources[KC_SENSITIVE_N + 1] = {
	"secrets", "configmaps", "persistentvolumeclaims", NULL
};

int
kc_sensitive_resource(const char *res)
{
	for (int i = 0; res != NULL && i < KC_SENSITIVE_N; i++)
		if (strcmp(res, kc_sensitive_resources[i]) == 0)
			return 1;
	return 0;
}
