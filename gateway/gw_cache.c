/*
 * The page cache: rendered read-API responses, shared by every HTTP worker of the process,
 * keyed by account, the account's data version, and the request's path and query. A sync that
 * changes data bumps the version in the same transaction (rs_store), and the version comes back
 * with every request's authentication, so a stale page can never be served: old versions just
 * stop being asked for and age out of the LRU. Striped mutexes keep workers from contending.
 */
#include "gw_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define STRIPES 16
#define BUCKETS 1024 /* per stripe */

struct gw_cache_entry {
    struct gw_cache_entry *next_in_bucket;
    struct gw_cache_entry *lru_prev, *lru_next; /* most recent at the head */
    atomic_int refs;                            /* the cache's own and each reader's */
    uint64_t hash;
    size_t keylen, len;
    char *body;
    char key[]; /* keylen bytes, not NUL-terminated */
};

struct stripe {
    pthread_mutex_t lock;
    struct gw_cache_entry *buckets[BUCKETS];
    struct gw_cache_entry *head, *tail;
    size_t bytes;
};

struct gw_cache {
    size_t max_bytes_per_stripe;
    atomic_uint_fast64_t hits, misses;
    struct stripe stripes[STRIPES];
};

static uint64_t hash_key(const char *key, size_t len)
{
    uint64_t h = UINT64_C(14695981039346656037);

    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * UINT64_C(1099511628211);
    return h;
}

enum rs_err gw_cache_new(size_t max_bytes, struct gw_cache **out)
{
    struct gw_cache *cache = calloc(1, sizeof(*cache));

    if (!cache)
        return RS_ERR_NOMEM;
    cache->max_bytes_per_stripe = max_bytes / STRIPES;
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&cache->stripes[i].lock, NULL);
    *out = cache;
    return RS_OK;
}

void gw_cache_release(const struct gw_cache_entry *entry)
{
    struct gw_cache_entry *e = (struct gw_cache_entry *)entry;

    if (e && atomic_fetch_sub(&e->refs, 1) == 1) {
        free(e->body);
        free(e);
    }
}

void gw_cache_free(struct gw_cache *cache)
{
    if (!cache)
        return;
    for (int i = 0; i < STRIPES; i++) {
        struct gw_cache_entry *e = cache->stripes[i].head;

        while (e) {
            struct gw_cache_entry *next = e->lru_next;
            gw_cache_release(e);
            e = next;
        }
        pthread_mutex_destroy(&cache->stripes[i].lock);
    }
    free(cache);
}

static void lru_unlink(struct stripe *s, struct gw_cache_entry *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        s->head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        s->tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_push(struct stripe *s, struct gw_cache_entry *e)
{
    e->lru_next = s->head;
    e->lru_prev = NULL;
    if (s->head)
        s->head->lru_prev = e;
    s->head = e;
    if (!s->tail)
        s->tail = e;
}

/* Removes e from its bucket and the LRU and drops the cache's reference. Lock held. */
static void evict(struct stripe *s, struct gw_cache_entry *e)
{
    struct gw_cache_entry **p = &s->buckets[e->hash % BUCKETS];

    while (*p && *p != e)
        p = &(*p)->next_in_bucket;
    if (*p)
        *p = e->next_in_bucket;
    lru_unlink(s, e);
    s->bytes -= e->len + e->keylen;
    gw_cache_release(e);
}

static struct gw_cache_entry *find(struct stripe *s, uint64_t hash, const char *key, size_t len)
{
    for (struct gw_cache_entry *e = s->buckets[hash % BUCKETS]; e; e = e->next_in_bucket) {
        if (e->hash == hash && e->keylen == len && memcmp(e->key, key, len) == 0)
            return e;
    }
    return NULL;
}

const struct gw_cache_entry *gw_cache_get(struct gw_cache *cache, const char *key, size_t len)
{
    uint64_t hash = hash_key(key, len);
    struct stripe *s = &cache->stripes[hash % STRIPES];
    struct gw_cache_entry *e;

    pthread_mutex_lock(&s->lock);
    e = find(s, hash, key, len);
    if (e) {
        atomic_fetch_add(&e->refs, 1);
        lru_unlink(s, e);
        lru_push(s, e);
    }
    pthread_mutex_unlock(&s->lock);
    atomic_fetch_add_explicit(e ? &cache->hits : &cache->misses, 1, memory_order_relaxed);
    return e;
}

const struct gw_cache_entry *gw_cache_put(struct gw_cache *cache, const char *key, size_t len,
                                          char *body_owned, size_t body_len)
{
    uint64_t hash = hash_key(key, len);
    struct stripe *s = &cache->stripes[hash % STRIPES];
    struct gw_cache_entry *e = malloc(sizeof(*e) + len), *old;

    if (!e) {
        free(body_owned);
        return NULL;
    }
    memset(e, 0, sizeof(*e));
    memcpy(e->key, key, len);
    e->keylen = len;
    e->hash = hash;
    e->body = body_owned;
    e->len = body_len;
    atomic_init(&e->refs, 2); /* the cache's and the caller's */
    pthread_mutex_lock(&s->lock);
    if ((old = find(s, hash, key, len)) != NULL)
        evict(s, old);
    if (body_len + len <= cache->max_bytes_per_stripe) {
        e->next_in_bucket = s->buckets[hash % BUCKETS];
        s->buckets[hash % BUCKETS] = e;
        lru_push(s, e);
        s->bytes += body_len + len;
        while (s->bytes > cache->max_bytes_per_stripe && s->tail)
            evict(s, s->tail);
    } else {
        atomic_store(&e->refs, 1); /* too big to keep: only the caller's reference */
    }
    pthread_mutex_unlock(&s->lock);
    return e;
}

const char *gw_cache_body(const struct gw_cache_entry *entry, size_t *len)
{
    *len = entry->len;
    return entry->body;
}

void gw_cache_stats(const struct gw_cache *cache, uint64_t *hits, uint64_t *misses)
{
    *hits = atomic_load(&cache->hits);
    *misses = atomic_load(&cache->misses);
}
