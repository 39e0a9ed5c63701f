/* sensitive.h - the one table of sensitive resources: the core resources
 * whose reads matter to an investigation of an agent (they hold or point
 * at data), in this order: secrets, configmaps, persistentvolumeclaims.
 *
 * Used by the audit filter (sensitive reads), the who-can tables the
 * analysis writes, diff (sensitive reads after the remediation) and the
 * report.  It sits in collector/ because the audit filter, the lowest of
 * its users, is there.
 */
#ifndef KC_COLLECTOR_SENSITIVE_H
#define KC_COLLECTOR_SENSITIVE_H

#define KC_SENSITIVE_N 3

/* The resource names (plural, core group), then NULL. */
extern const char *const kc_sensitive_resources[KC_SENSITIVE_N + 1];

/* 1 when res (a plural resource name, no group) is one of them. */
int kc_sensitive_resource(const char *res);

#endif
