/* jarena.h - cJSON trees packed into an arena, for the large read-only
 * models (a snapshot's objects: issue 11).
 *
 * A tree as cJSON's parser builds it costs one malloc per node (64 bytes,
 * 80 with glibc's chunk header) and one per key and per string value (a
 * 32-byte chunk at least), and a heap of tens of millions of such chunks
 * is fragmented (peak RSS was 1.45x the bytes asked for).  kc_jarena_copy
 * copies a tree into 1 MiB blocks: nodes packed, and every key and every
 * string value of at most KC_JARENA_INTERN_MAX bytes stored once per arena
 * (keys, verbs, API groups, kinds, namespace names repeat across tens of
 * thousands of objects).
 *
 * The copy is an ordinary cJSON tree for every reader (print, compare,
 * duplicate, kc_json_get).  For writers:
 *   - cJSON's free ignores arena memory (the hook kc_jarena_new installs
 *     once per process), so cJSON_Delete of an arena tree, or of a heap
 *     tree holding arena nodes, frees only the heap nodes in it; the
 *     arena's memory goes with kc_jarena_free, all at once;
 *   - string values may be shared, so they are marked cJSON_IsReference:
 *     cJSON_SetValuestring refuses them (replace the node instead);
 *   - cJSON_Duplicate of an arena node is a heap tree and may outlive the
 *     arena; an arena node itself must not (kc_jarena_free releases it).
 * One arena is built by one thread at a time; cJSON's free, the hook, may
 * run on any thread.  With hooks of its own installed, cJSON no longer
 * grows a printed document with realloc but by a new buffer and a copy
 * (its rule: realloc only with the default malloc and free); the printed
 * text is still malloc'd, to be freed with free. */
#ifndef KC_UTIL_JARENA_H
#define KC_UTIL_JARENA_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define KC_JARENA_INTERN_MAX 64

struct kc_jarena;

/* Install cJSON's free hook (once per process; later calls do nothing).
 * kc_jarena_new calls it; a program calls it first, before its threads
 * use cJSON, so the hook is never changed under them. */
void kc_jarena_init(void);
/* A new, empty arena; NULL when out of memory. */
struct kc_jarena *kc_jarena_new(void);
/* A copy of src (a whole tree: src's key, value and children, not its
 * siblings) in a, with the same keys, values and order; on the heap
 * (cJSON_Duplicate) when a is NULL or has no room; NULL when src is NULL
 * or out of memory. */
cJSON *kc_jarena_copy(struct kc_jarena *a, const cJSON *src);
/* A copy of s in a (stored once per arena when at most
 * KC_JARENA_INTERN_MAX bytes); NULL when a or s is NULL or a has no
 * room. */
const char *kc_jarena_strdup(struct kc_jarena *a, const char *s);
/* tree (taken) replaced by its copy in a, the tree deleted (its heap
 * nodes freed).  tree itself when a is NULL; when a has no room, tree
 * itself if it is all heap (never lost), else (it holds nodes of an
 * arena, a scratch arena's that is reset next) a heap copy: the result
 * never holds a node of an arena other than a.  NULL when tree is NULL,
 * or when that copy found no memory (tree deleted). */
cJSON *kc_jarena_take(struct kc_jarena *a, cJSON *tree);
/* The same for a member taken out of its object, whose own list (its
 * members) is shared too when a shares (kc_jarena_share): kc_jarena_take
 * leaves the root's own list alone, as an item's members are its own,
 * where a role's rules or an object's labels are as often another's. */
cJSON *kc_jarena_take_member(struct kc_jarena *a, cJSON *tree);
/* text (len bytes) parsed by cJSON straight into a: no heap tree first,
 * so no transient of twice the document (a 51 MB who-can.json is 200 MB
 * of heap); strings are not shared (the parser allocates each).  The
 * same tree and the same errors as cJSON_ParseWithLength (on the heap
 * when a is NULL, or when a can get no block: no room is never taken
 * for bad JSON); what a failed parse allocated stays in a until it
 * goes. */
cJSON *kc_jarena_parse(struct kc_jarena *a, const char *text, size_t len);
/* The same, *end (when end is not NULL) set where the value ends, as
 * cJSON_ParseWithLengthOpts sets it (text after the value is not read). */
cJSON *kc_jarena_parse_end(struct kc_jarena *a, const char *text, size_t len, const char **end);
/* From now on, a's copies store each list of members (an object's or an
 * array's) once: a copy whose members equal, one for one and all the way
 * down, a list a holds already (the same keys, values and order) points
 * to that list, and the room its own took is given back.  Roles of
 * tens of thousands of namespaces carry the same rules, and pods of one
 * template the same spec (issue 11).  For read-only trees only: a write
 * into a shared list (adding, removing or replacing a member, in any
 * tree that holds it) is seen by every tree that holds it.  Lists
 * copied before the call, or before kc_jarena_seal, are not shared with
 * later ones. */
void kc_jarena_share(struct kc_jarena *a);
/* Forget the table of stored strings and lists (the copies keep them); a
 * later copy starts a new one.  For when an arena is built. */
void kc_jarena_seal(struct kc_jarena *a);
/* Bytes held: blocks, and the tables of strings and lists while there
 * are some. */
size_t kc_jarena_bytes(const struct kc_jarena *a);
/* 1 when p points into an arena that is not freed. */
int kc_jarena_owns(const void *p);
/* Forget every tree in a: no node of a may be used after it; a is empty
 * again, its 1 MiB blocks kept for what it builds next (none faults in
 * twice), larger ones unmapped (under AddressSanitizer, every block, so
 * a node used after the reset faults).  For a scratch arena that parses
 * one page after another.  kc_jarena_bytes then counts the blocks in
 * use only. */
void kc_jarena_reset(struct kc_jarena *a);
/* For tests: after n more blocks, no arena gets a block (as when mmap
 * fails), until called again with -1; returns how many were left of the
 * count before (-1: none was set).  Not thread-safe; no command calls
 * it. */
long kc_jarena_test_fail_blocks_after(long n);
/* Release every block of a (NULL is fine).  No node of a may be used
 * after it. */
void kc_jarena_free(struct kc_jarena *a);

#endif
