/* jarena.c - cJSON trees packed into an arena (jarena.h).
 *
 * Blocks are 1 MiB (or a multiple, for one large string), aligned to
 * 1 MiB, mapped with mmap of their own: freeing an arena gives its memory
 * back to the system at once (from malloc, glibc's growing mmap threshold
 * kept freed blocks in the heap, and the RSS with them).  A bitmap with
 * one bit per MiB of address space says which MiB is an arena block;
 * cJSON's free (the hook) tests a pointer's bit and leaves arena memory
 * alone (the bitmap's leaves are made as blocks are mapped).  No heap
 * chunk can share a MiB with a block, since the block maps the whole
 * MiB.  Under AddressSanitizer the blocks are registered
 * with LeakSanitizer as roots, so the heap nodes an arena tree holds are
 * not taken for leaks.  A block whose address is past the bitmap's 48 bits (never, on
 * x86-64's and arm64's 47- and 48-bit user spaces) is refused and the
 * copy falls back to cJSON_Duplicate: the same tree, on the heap. */
#include "util/jarena.h"

#include <pthread.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__SANITIZE_ADDRESS__)
#define KC_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KC_LSAN 1
#endif
#endif
#ifdef KC_LSAN
#include <sanitizer/lsan_interface.h>
#endif

#define BLOCK_SHIFT 20
#define BLOCK ((size_t)1 << BLOCK_SHIFT)
#define SPAN_BITS 48

/* One bit per MiB of the low 2^48 bytes, in leaves of 4 KiB (32 GiB of
 * address space each) made when a block is first mapped in their range
 * and kept for the process (in practice one or two): a flat 32 MiB .bss
 * bitmap was resident under AddressSanitizer, where LeakSanitizer scans
 * it.  Readers load a leaf pointer and a byte, lock-free. */
#define LEAF_SHIFT 15		/* MiBs per leaf */
#define LEAF_BYTES (((size_t)1 << LEAF_SHIFT) / 8)
typedef _Atomic unsigned char leaf_t;
static leaf_t *_Atomic owned[(size_t)1 << (SPAN_BITS - BLOCK_SHIFT - LEAF_SHIFT)];

/* The leaf holding MiB b's bit, made when make is set; NULL when there is
 * none (or no memory for it). */
static leaf_t *
leaf(uintptr_t b, int make)
{
	leaf_t *l = atomic_load_explicit(&owned[b >> LEAF_SHIFT], memory_order_acquire), *n;

	if (l != NULL || !make)
		return l;
	if ((n = calloc(LEAF_BYTES, 1)) == NULL)
		return NULL;
	if (!atomic_compare_exchange_strong_explicit(&owned[b >> LEAF_SHIFT], &l, n, memory_order_acq_rel,
	    memory_order_acquire)) {
		free(n);	/* another thread made it: l is that one */
		return l;
	}
	return n;
}

struct block {
	struct block *next;
	size_t size;		/* bytes, a multiple of BLOCK */
};

/* A stored member list (the child list of an object or an array): its
 * first node, and its hash (chain_hash). */
struct chain {
	const cJSON *first;
	size_t hash;
};

struct kc_jarena {
	struct block *blocks;
	struct block *spare;	/* small blocks kept by kc_jarena_reset, for reuse */
	char *cur, *end;	/* free room in the newest small block */
	size_t bytes;
	const char **tab;	/* stored strings, open addressing; NULL: none */
	size_t ntab, nused;
	int share;		/* kc_jarena_share: equal member lists stored once */
	struct chain *ctab;	/* those lists by hash, open addressing; NULL: none */
	size_t nctab, ncused;
	int failed;		/* a block could not be had since kc_jarena_parse began */
};

/* 0, or -1 when a leaf cannot be made (nothing is marked then) */
static int
mark(uintptr_t base, size_t size, int on)
{
	uintptr_t first = base >> BLOCK_SHIFT, end = (base + size) >> BLOCK_SHIFT;

	for (uintptr_t b = first; b < end; b++)
		if (leaf(b, on) == NULL)
			return -1;
	for (uintptr_t b = first; b < end; b++) {
		leaf_t *l = leaf(b, 0);
		size_t at = (size_t)(b & (((uintptr_t)1 << LEAF_SHIFT) - 1)) >> 3;
		unsigned char bit = (unsigned char)(1u << (b & 7));

		if (on)
			atomic_fetch_or_explicit(&l[at], bit, memory_order_release);
		else
			atomic_fetch_and_explicit(&l[at], (unsigned char)~bit, memory_order_release);
	}
	return 0;
}

int
kc_jarena_owns(const void *p)
{
	uintptr_t a = (uintptr_t)p, b = a >> BLOCK_SHIFT;

	leaf_t *l;

	if (p == NULL || a >> SPAN_BITS != 0 || (l = leaf(b, 0)) == NULL)
		return 0;
	return (atomic_load_explicit(&l[(size_t)(b & (((uintptr_t)1 << LEAF_SHIFT) - 1)) >> 3],
	    memory_order_acquire) >> (b & 7)) & 1;
}

static void *alloc(struct kc_jarena *a, size_t n, size_t align);

/* the arena kc_jarena_parse builds into, on this thread; NULL: the heap */
static _Thread_local struct kc_jarena *parsing;

static void *
hook_malloc(size_t n)
{
	return parsing != NULL ? alloc(parsing, n, alignof(cJSON)) : malloc(n);
}

static void
hook_free(void *p)
{
	if (!kc_jarena_owns(p))
		free(p);
}

static void seed_hash(void);

static void
install(void)
{
	cJSON_Hooks h = { .malloc_fn = hook_malloc, .free_fn = hook_free };

	seed_hash();	/* once, before any arena is made */
	cJSON_InitHooks(&h);
}

void
kc_jarena_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, install);
}

struct kc_jarena *
kc_jarena_new(void)
{
	kc_jarena_init();
	return calloc(1, sizeof(struct kc_jarena));
}

/* size bytes (a multiple of BLOCK) mapped at a multiple of BLOCK: a
 * mapping BLOCK larger, its unaligned head and tail unmapped. */
static void *
map_aligned(size_t size)
{
	char *p = mmap(NULL, size + BLOCK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t at;
	size_t head;

	if (p == MAP_FAILED)
		return NULL;
	at = ((uintptr_t)p + BLOCK - 1) & ~(uintptr_t)(BLOCK - 1);
	head = at - (uintptr_t)p;
	if (head > 0)
		munmap(p, head);
	if (BLOCK - head > 0)
		munmap((char *)at + size, BLOCK - head);
	return (void *)at;
}

/* kc_jarena_test_fail_blocks_after's count: -1, never */
static long fail_after = -1;

long
kc_jarena_test_fail_blocks_after(long n)
{
	long was = fail_after;

	fail_after = n;
	return was;
}

/* A block of at least need bytes after its header. */
static struct block *
block_new(struct kc_jarena *a, size_t need)
{
	size_t size;
	void *p;

	if (fail_after == 0)
		return NULL;
	if (fail_after > 0)
		fail_after--;
	if (need > SIZE_MAX - BLOCK - sizeof(struct block))
		return NULL;
	size = (need + sizeof(struct block) + BLOCK - 1) & ~(BLOCK - 1);
	if (size == BLOCK && a->spare != NULL) {	/* mapped, marked, registered */
		struct block *b = a->spare;

		a->spare = b->next;
		b->next = a->blocks;
		a->blocks = b;
		a->bytes += size;
		return b;
	}
	if ((p = map_aligned(size)) == NULL)
		return NULL;
	if ((uintptr_t)p >> SPAN_BITS != 0 || ((uintptr_t)p + size - 1) >> SPAN_BITS != 0) {
		munmap(p, size);
		return NULL;
	}
	if (mark((uintptr_t)p, size, 1) != 0) {
		munmap(p, size);
		return NULL;
	}
#ifdef KC_LSAN
	__lsan_register_root_region(p, size);
#endif
	((struct block *)p)->size = size;
	((struct block *)p)->next = a->blocks;
	a->blocks = p;
	a->bytes += size;
	return p;
}

static void *
alloc(struct kc_jarena *a, size_t n, size_t align)
{
	uintptr_t at = ((uintptr_t)a->cur + align - 1) & ~(uintptr_t)(align - 1);
	struct block *b;

	if (a->cur != NULL && at <= (uintptr_t)a->end && n <= (uintptr_t)a->end - at) {
		a->cur = (char *)at + n;
		return (void *)at;
	}
	if (n > BLOCK / 4) {
		/* a block of its own; the small block in use goes on */
		if (n > SIZE_MAX - align || (b = block_new(a, n + align)) == NULL) {
			a->failed = 1;
			return NULL;
		}
		return (void *)(((uintptr_t)(b + 1) + align - 1) & ~(uintptr_t)(align - 1));
	}
	if ((b = block_new(a, BLOCK - sizeof(struct block))) == NULL) {
		a->failed = 1;
		return NULL;
	}
	a->cur = (char *)(b + 1);
	a->end = (char *)b + b->size;
	return alloc(a, n, align);
}

/* The tables' hash is FNV-1a from a start chosen at random once per
 * process, finished by MurmurHash3's fmix64: a cluster's objects cannot
 * be made (names chosen in advance) to fall into one run of slots, and
 * however they fall, no lookup walks more than PROBE_MAX slots (a string
 * then goes unshared, a list unremembered: only room is lost, never an
 * answer).  An adversarial review measured a crafted 80,000-name run at
 * 4.8 s for the lists' table, 15.7 s for the strings'. */
#define PROBE_MAX 32
static uint64_t hash_seed = 1469598103934665603u;

static void
seed_hash(void)
{
	uint64_t r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r))
		hash_seed ^= r;
	else
		hash_seed ^= (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&r;
}

static size_t
mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdu;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53u;
	h ^= h >> 33;
	return (size_t)h;
}

static size_t
hash(const char *s, size_t n)
{
	uint64_t h = hash_seed;	/* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211u;
	return mix(h);
}

static int
tab_grow(struct kc_jarena *a)
{
	size_t n = a->ntab ? a->ntab * 2 : 4096;
	const char **t = calloc(n, sizeof(*t));

	if (t == NULL)
		return -1;
	for (size_t i = 0; i < a->ntab; i++) {
		const char *s = a->tab[i];
		size_t j;

		if (s == NULL)
			continue;
		for (j = hash(s, strlen(s)) & (n - 1); t[j] != NULL; j = (j + 1) & (n - 1))
			;
		t[j] = s;
	}
	free(a->tab);
	a->tab = t;
	a->ntab = n;
	return 0;
}

static char *
store(struct kc_jarena *a, const char *s)
{
	size_t n = strlen(s), j = 0, k = 0;
	int intern = n <= KC_JARENA_INTERN_MAX;
	char *c;

	if (intern) {
		if ((a->nused + 1) * 2 > a->ntab && tab_grow(a) != 0)
			return NULL;
		for (j = hash(s, n) & (a->ntab - 1); a->tab[j] != NULL; j = (j + 1) & (a->ntab - 1)) {
			if (strcmp(a->tab[j], s) == 0)
				return (char *)a->tab[j];
			if (++k == PROBE_MAX) {	/* a crowded run: this copy is its own */
				intern = 0;
				break;
			}
		}
	}
	if ((c = alloc(a, n + 1, 1)) == NULL)
		return NULL;
	memcpy(c, s, n + 1);
	if (intern) {
		a->tab[j] = c;
		a->nused++;
	}
	return c;
}

/* ---- kc_jarena_share: equal member lists stored once ----
 *
 * A list is stored when its members are complete, bottom up, so two equal
 * subtrees come out with the same child pointers all the way down: two
 * lists are equal when their nodes are, one for one, by type, key, string
 * value, number (its bits: -0 is not 0) and child pointer.  Equal lists
 * are never judged different wrongly except when the table had no room
 * (then they are merely not shared); different lists are never judged
 * equal, since everything a node prints is compared. */

/* A string of at most KC_JARENA_INTERN_MAX bytes is stored once, so its
 * address stands for its bytes (one left unshared by a crowded run of the
 * strings' table only makes its lists miss a share: chain_same compares
 * bytes); a longer one is hashed by its bytes. */
static size_t
str_hash(size_t h, const char *s)
{
	size_t n;

	if (s == NULL)
		return (h ^ 0x9e3779b97f4a7c15u) * 1099511628211u;
	if ((n = strlen(s)) <= KC_JARENA_INTERN_MAX)
		return (h ^ (size_t)(uintptr_t)s) * 1099511628211u;
	return (h ^ hash(s, n)) * 1099511628211u;
}

static size_t
chain_hash(const cJSON *first)
{
	size_t h = (size_t)hash_seed;

	for (const cJSON *e = first; e != NULL; e = e->next) {
		uint64_t bits;

		memcpy(&bits, &e->valuedouble, sizeof(bits));
		h = (h ^ (size_t)e->type) * 1099511628211u;
		h = str_hash(h, e->string);
		h = str_hash(h, e->valuestring);
		h = (h ^ (size_t)bits) * 1099511628211u;
		h = (h ^ (size_t)(unsigned)e->valueint) * 1099511628211u;
		h = (h ^ (size_t)(uintptr_t)e->child) * 1099511628211u;
	}
	return mix(h);
}

static int
str_same(const char *x, const char *y)
{
	return x == y || (x != NULL && y != NULL && strcmp(x, y) == 0);
}

static int
chain_same(const cJSON *x, const cJSON *y)
{
	for (; x != NULL && y != NULL; x = x->next, y = y->next)
		if (x->type != y->type || x->valueint != y->valueint || x->child != y->child ||
		    memcmp(&x->valuedouble, &y->valuedouble, sizeof(x->valuedouble)) != 0 ||
		    !str_same(x->string, y->string) || !str_same(x->valuestring, y->valuestring))
			return 0;
	return x == NULL && y == NULL;
}

static int
ctab_grow(struct kc_jarena *a)
{
	size_t n = a->nctab ? a->nctab * 2 : 4096;
	struct chain *t = calloc(n, sizeof(*t));

	if (t == NULL)
		return -1;
	for (size_t i = 0; i < a->nctab; i++) {
		size_t j;

		if (a->ctab[i].first == NULL)
			continue;
		for (j = a->ctab[i].hash & (n - 1); t[j].first != NULL; j = (j + 1) & (n - 1))
			;
		t[j] = a->ctab[i];
	}
	free(a->ctab);
	a->ctab = t;
	a->nctab = n;
	return 0;
}

/* Where an arena stood before a node's members were copied. */
struct mark {
	char *cur;
	struct block *blocks;
	size_t nused, ncused;
};

/* n's members, just copied (from m on): replaced by an equal list the
 * arena has, the room they took given back when nothing else took room
 * or was remembered since (no new block, no new stored string or list:
 * an equal list's strings and lists are all stored already, since its
 * members' child pointers are old ones); else kept, and remembered.  No
 * room for the table: kept, not shared. */
static void
share_members(struct kc_jarena *a, cJSON *n, const struct mark *m)
{
	size_t h = chain_hash(n->child), j, k = 0;

	if ((a->ncused + 1) * 2 > a->nctab && ctab_grow(a) != 0)
		return;
	for (j = h & (a->nctab - 1); a->ctab[j].first != NULL; j = (j + 1) & (a->nctab - 1)) {
		const cJSON *same = a->ctab[j].first;

		if (a->ctab[j].hash != h || !chain_same(same, n->child)) {
			if (++k == PROBE_MAX)
				return;	/* a crowded run: kept, not remembered */
			continue;
		}
		/* same was stored before mark (a list never equals one inside
		 * itself), so giving back the room from mark on leaves it */
		if (m->cur != NULL && a->blocks == m->blocks && a->nused == m->nused &&
		    a->ncused == m->ncused && ((const char *)same < m->cur || (const char *)same >= a->cur))
			a->cur = m->cur;
		n->child = (cJSON *)same;
		return;
	}
	a->ctab[j].first = n->child;
	a->ctab[j].hash = h;
	a->ncused++;
}

/* top: s is the tree's root, whose members are its own (an object of a
 * list is another object than its neighbours: remembering its members
 * would only fill the table) */
static cJSON *
copy(struct kc_jarena *a, const cJSON *s, int top)
{
	cJSON *n = alloc(a, sizeof(*n), alignof(cJSON)), *last = NULL;

	if (n == NULL)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->type = s->type & ~(cJSON_IsReference | cJSON_StringIsConst);
	n->valueint = s->valueint;
	n->valuedouble = s->valuedouble;
	if (s->string != NULL && (n->string = store(a, s->string)) == NULL)
		return NULL;
	if (s->valuestring != NULL) {
		if ((n->valuestring = store(a, s->valuestring)) == NULL)
			return NULL;
		n->type |= cJSON_IsReference;	/* shared: not to be written in place */
	}
	/* where n's members start: when they turn out to be a list the
	 * arena has already, the room they took is given back */
	struct mark m = { a->cur, a->blocks, a->nused, a->ncused };

	for (const cJSON *c = s->child; c != NULL; c = c->next) {
		cJSON *k = copy(a, c, 0);

		if (k == NULL)
			return NULL;
		if (last == NULL) {
			n->child = k;
		} else {
			last->next = k;
			k->prev = last;
		}
		last = k;
	}
	if (n->child != NULL) {
		n->child->prev = last;	/* cJSON's convention: the first's prev is the last */
		if (a->share && !top)
			share_members(a, n, &m);
	}
	return n;
}

const char *
kc_jarena_strdup(struct kc_jarena *a, const char *s)
{
	return a == NULL || s == NULL ? NULL : store(a, s);
}

cJSON *
kc_jarena_copy(struct kc_jarena *a, const cJSON *src)
{
	cJSON *c;

	if (src == NULL)
		return NULL;
	if (a != NULL && (c = copy(a, src, 1)) != NULL)
		return c;
	/* no block (out of memory, or one past the bitmap): the same tree on
	 * the heap; what was copied stays in the arena until it goes */
	return cJSON_Duplicate(src, 1);
}

/* 1 when a node of t (t's siblings aside), or a key or string of one, is
 * arena memory */
static int
holds_arena(const cJSON *t)
{
	if (kc_jarena_owns(t) || kc_jarena_owns(t->string) || kc_jarena_owns(t->valuestring))
		return 1;
	for (const cJSON *c = t->child; c != NULL; c = c->next)
		if (holds_arena(c))
			return 1;
	return 0;
}

static cJSON *
take(struct kc_jarena *a, cJSON *tree, int top)
{
	cJSON *c;

	if (a == NULL || tree == NULL)
		return tree;
	if ((c = copy(a, tree, top)) != NULL) {
		cJSON_Delete(tree);
		return c;
	}
	/* no room: a heap tree stays as it is; one holding another arena's
	 * nodes (a scratch arena's, reset next) becomes a heap copy */
	if (!holds_arena(tree))
		return tree;
	c = cJSON_Duplicate(tree, 1);
	cJSON_Delete(tree);
	return c;
}

cJSON *
kc_jarena_take(struct kc_jarena *a, cJSON *tree)
{
	return take(a, tree, 1);
}

cJSON *
kc_jarena_take_member(struct kc_jarena *a, cJSON *tree)
{
	return take(a, tree, 0);
}

cJSON *
kc_jarena_parse_end(struct kc_jarena *a, const char *text, size_t len, const char **end)
{
	struct kc_jarena *prev = parsing;	/* restored after (NULL: the heap) */
	cJSON *j;

	parsing = a;
	if (a != NULL)
		a->failed = 0;
	j = cJSON_ParseWithLengthOpts(text, len, end, 0);
	if (j == NULL && a != NULL && a->failed) {	/* no room, not bad JSON: the heap decides */
		parsing = NULL;
		j = cJSON_ParseWithLengthOpts(text, len, end, 0);
	}
	parsing = prev;
	return j;
}

cJSON *
kc_jarena_parse(struct kc_jarena *a, const char *text, size_t len)
{
	return kc_jarena_parse_end(a, text, len, NULL);
}

void
kc_jarena_seal(struct kc_jarena *a)
{
	if (a == NULL)
		return;
	free(a->tab);
	a->tab = NULL;
	a->ntab = a->nused = 0;
	free(a->ctab);
	a->ctab = NULL;
	a->nctab = a->ncused = 0;
}

void
kc_jarena_share(struct kc_jarena *a)
{
	if (a != NULL)
		a->share = 1;
}

size_t
kc_jarena_bytes(const struct kc_jarena *a)
{
	return a == NULL ? 0 : a->bytes + a->ntab * sizeof(*a->tab) + a->nctab * sizeof(*a->ctab);
}

static void
unmap_list(struct block *b)
{
	struct block *next;

	for (; b != NULL; b = next) {
		size_t size = b->size;

		next = b->next;
		mark((uintptr_t)b, size, 0);
#ifdef KC_LSAN
		__lsan_unregister_root_region(b, size);
#endif
		munmap(b, size);
	}
}

void
kc_jarena_reset(struct kc_jarena *a)
{
	struct block *b, *next;

	if (a == NULL)
		return;
	for (b = a->blocks; b != NULL; b = next) {
		next = b->next;
		b->next = NULL;
#ifndef KC_LSAN
		if (b->size == BLOCK) {
			b->next = a->spare;
			a->spare = b;
			continue;
		}
#endif
		/* large blocks go back at once; under AddressSanitizer every
		 * block does, so a node used after the reset faults */
		unmap_list(b);
	}
	a->blocks = NULL;
	a->cur = a->end = NULL;
	a->bytes = 0;
	kc_jarena_seal(a);
}

void
kc_jarena_free(struct kc_jarena *a)
{
	if (a == NULL)
		return;
	unmap_list(a->blocks);
	unmap_list(a->spare);
	free(a->tab);
	free(a->ctab);
	free(a);
}
