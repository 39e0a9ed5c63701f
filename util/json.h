/* json.h - the one way to read a member of a JSON object (cJSON).
 *
 * Duplicate keys: the LAST member with the key wins.  That is jq's rule and
 * Go's encoding/json's (what the apiserver and kubectl do when they decode
 * such a document), so every command of kcustody attributes a document with
 * repeated keys the same way those tools do.  cJSON's own
 * cJSON_GetObjectItem* return the FIRST; do not use them on evidence.
 * Keys are compared exactly (case-sensitive, bytewise).
 */
#ifndef KC_UTIL_JSON_H
#define KC_UTIL_JSON_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* The member of object o named key (the last one), or NULL when o is not
 * an object or has no such member. */
const cJSON *kc_json_get(const cJSON *o, const char *key);
/* The same, non-const, for callers that modify the member. */
cJSON *kc_json_get_mut(cJSON *o, const char *key);
/* o's member at a dotted path ("cluster.clock.offset_seconds"), each step
 * by kc_json_get; NULL when any step is missing or a key is longer than
 * 255 bytes. */
const cJSON *kc_json_path(const cJSON *o, const char *path);

/* Remove every member of o named key (cJSON's DeleteItemFromObject removes
 * only the first, which would leave a repeated key's last, the one every
 * reader sees). */
void kc_json_delete(cJSON *o, const char *key);
/* Take the member named key out of o (the last one, the one readers see),
 * removing every other member with that key; NULL when absent. */
cJSON *kc_json_detach(cJSON *o, const char *key);
/* Make value the only member named key, in the place of the first one
 * (the key order of a record is kept; every other member with the key is
 * removed; added at the end when absent); takes value (deleted on
 * failure).  0, or -1 when o is not an object or value
 * is NULL. */
int kc_json_set(cJSON *o, const char *key, cJSON *value);

/* Move array src's elements from `from` (one of them; NULL: the first)
 * to the end of array dst, in their order, in one pass; nothing when
 * either is NULL. */
void kc_json_move_elems(cJSON *dst, cJSON *src, cJSON *from);

/* The member's string value, or NULL when absent or not a string. */
const char *kc_json_str(const cJSON *o, const char *key);
/* The same, with "" instead of NULL. */
const char *kc_json_str0(const cJSON *o, const char *key);

/* text (len bytes), a JSON object, parsed as cJSON_ParseWithLength parses
 * it, except that the array under its top-level member key is read one
 * element at a time: fn(ctx, element, occurrence) for each (the element
 * is borrowed: deleted after fn returns; parsed into scratch when not
 * NULL, reset then), so a 50 MB list is never a tree at once.
 * occurrence counts the key's members in order, and each member begins
 * with fn(ctx, NULL, occurrence), even one that holds no element: the
 * key's readers take the last (kc_json_get), so a reader starts over
 * there (found by the fuzz harness: a later empty or scalar member left
 * an earlier member's elements standing).  A
 * member of that key that is not an array is read whole, fn called for
 * each of its children (as cJSON_ArrayForEach walks them).  Returns the
 * object's other members, in order (a text that is not an object: the
 * whole value, fn never called); NULL with *err KC_ERR_PARSE for any text
 * the whole-text parse refuses (a BOM inside, nesting past cJSON's limit
 * counted from the top included), KC_ERR_NOMEM, or fn's non-zero
 * return. */
struct kc_jarena;
typedef int (*kc_json_elem_fn)(void *ctx, const cJSON *elem, int occurrence);
cJSON *kc_json_parse_stream(const char *text, size_t len, const char *key, struct kc_jarena *scratch,
    kc_json_elem_fn fn, void *ctx, int *err);

/* The same read as the text arrives, in pieces of any size (a member as it
 * is inflated: the report never holds who-can.json's 54 MB of text at
 * 150k objects).  For every way of cutting a text into pieces, the
 * callbacks, the result and the error are kc_json_parse_stream's on the
 * whole text (tests/fuzz/fuzz_json_stream.c checks it on random cuts).
 * Only a value begun and not yet ended is held between pieces: a value
 * is taken once the bytes after it show where it ends, and one that does
 * not parse yet is tried again when twice its bytes have come, so the
 * time stays linear.  feed: 0, or fn's error or KC_ERR_NOMEM (a byte
 * that no JSON text can have there: KC_ERR_PARSE), after which feeds do
 * nothing and end gives that error.  end: the text ends; returns what
 * kc_json_parse_stream returns, and frees s.  free: s let go without an
 * end (the scratch arena reset). */
struct kc_json_stream;
struct kc_json_stream *kc_json_stream_new(const char *key, struct kc_jarena *scratch, kc_json_elem_fn fn,
    void *ctx);
int kc_json_stream_feed(struct kc_json_stream *s, const char *p, size_t n);
cJSON *kc_json_stream_end(struct kc_json_stream *s, int *err);
void kc_json_stream_free(struct kc_json_stream *s);
/* The bytes s holds now (a value begun; tests bound it). */
size_t kc_json_stream_held(const struct kc_json_stream *s);

/* 1 when the JSON text p[0..n) has a string escape for U+0000 (\u0000)
 * or a raw NUL byte, else 0.  cJSON ends a string at it, where Go, jq and Python keep the
 * rest, so a name "agent\u0000x" would be "agent" to kcustody and
 * something else to kubectl: a server's answer with one is refused
 * (no Kubernetes name or value holds one).  A raw NUL byte is not JSON
 * text, but cJSON_ParseWithLength accepts one inside a string and cuts
 * the string there the same way, so it counts too; an escaped backslash
 * before "u0000" is not one. */
int kc_json_text_has_nul(const char *p, size_t n);
/* The error for such an answer: format arguments METHOD, PATH. */
#define KC_JSON_NUL_REFUSED "%s %s: the server's answer holds a string with a NUL character (\\u0000), " \
	"which no Kubernetes name or value holds; readers differ on it (kcustody's JSON reader would cut " \
	"the string where kubectl and jq keep it), so the answer is not used"


#endif
