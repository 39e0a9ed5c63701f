/* select.h - which service accounts are AI agents.
 *
 * Five ways, combined (an SA chosen several ways lists every reason):
 *   - an agent runtime's custom resource runs as it (rbac/agentcr.h: a
 *     kagent Agent; reason "runs agent kagent.dev/Agent NS/NAME (VIA)"),
 *     whatever its name and whatever --agents says (an agent is what the
 *     runtime says it is); an account the resource names that is not in
 *     the snapshot is not selected;
 *   - --agents REGEX (default `agent|kagent|ai`): a POSIX extended regex
 *     matched, anchored, against the name parts of "NAMESPACE/NAME".  The
 *     string is split at '-', '_', '.', ':' and '/'; the regex must match a
 *     whole run of consecutive parts (with the separators between them).
 *     So `ai` selects `ai-indexer` and `team.ai/x` but not `maintainer`;
 *     `kagent-bot` and `rag-agent` match `kagent` / `agent`; a regex that
 *     spans parts (`llm-gateway`) works too.  An empty REGEX selects none.
 *   - --sa NS/NAME (repeatable): exactly that account, even when the
 *     snapshot has no such object (its permissions can exist without it).
 *   - --agent-selector LABELSEL: the accounts that pods matching the
 *     selector run as (spec.serviceAccountName, default "default").
 *   - --all-sas: every service account in the snapshot.
 * The result is sorted by namespace, then name.
 */
#ifndef KC_RBAC_SELECT_H
#define KC_RBAC_SELECT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "collector/snapshot.h"

#define KC_AGENTS_DEFAULT "agent|kagent|ai"

struct kc_select_opts {
	const char *agents;		/* NULL: KC_AGENTS_DEFAULT */
	int no_regex;			/* only --sa / --agent-selector / --all-sas */
	const char *const *sas;		/* "NS/NAME" */
	size_t nsas;
	const char *agent_selector;	/* label selector over pods, or NULL */
	int all_sas;
	int all_namespaces;		/* review every namespace, not only reachable ones */
};

struct kc_selected {
	char *ns;
	char *name;
	int exists;			/* the ServiceAccount object is in the snapshot */
	char **reasons;			/* "regex 'R' matched 'kagent'", "--sa", "pod P matches SEL", "--all-sas" */
	size_t nreasons;
};

struct kc_selection {
	struct kc_selected *v;
	size_t n, cap;
};

/* Choose.  KC_ERR_INVALID for a bad regex, selector or --sa value. */
int kc_select(const struct kc_snapshot *snap, const struct kc_select_opts *opts,
    struct kc_selection *out);
void kc_selection_free(struct kc_selection *s);

/* 1 when "ns/name" has a run of name parts that regex matches whole;
 * *part (may be NULL) receives the matching run (newly allocated). */
int kc_select_match_name(const void *regex_t_ptr, const char *ns, const char *name, char **part);

/* {"rule":..., "selected":[{"namespace","name","exists","reasons":[]}]} */
cJSON *kc_selection_json(const struct kc_select_opts *opts, const struct kc_selection *s);

/* Find a selected SA (NULL when not selected). */
const struct kc_selected *kc_selection_find(const struct kc_selection *s, const char *ns,
    const char *name);

#endif
