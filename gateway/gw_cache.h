/*
 * The page cache of rendered read-API responses (gw_cache.c): process-wide, thread-safe, LRU,
 * bounded in bytes. Entries are reference-counted so a worker can send a body while another
 * evicts it.
 */
#ifndef ROSTER_GW_CACHE_H
#define ROSTER_GW_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "roster/rs_err.h"

struct gw_cache;
struct gw_cache_entry;

/* A cache holding at most max_bytes of bodies and keys. RS_ERR_NOMEM on failure. */
enum rs_err gw_cache_new(size_t max_bytes, struct gw_cache **out) RS_MUST_CHECK;
void gw_cache_free(struct gw_cache *cache);

/* The entry for key with a reference the caller must release, or NULL. */
const struct gw_cache_entry *gw_cache_get(struct gw_cache *cache, const char *key, size_t len);
/*
 * Stores body_owned (malloc'd; the cache takes it) under key, replacing an older entry, and
 * returns it with a reference the caller must release (NULL when out of memory; the body is
 * then freed). A body larger than the cache's share is returned but not kept.
 */
const struct gw_cache_entry *gw_cache_put(struct gw_cache *cache, const char *key, size_t len,
                                          char *body_owned, size_t body_len);
/* The body of an entry the caller holds a reference to. */
const char *gw_cache_body(const struct gw_cache_entry *entry, size_t *len);
/* Drops a reference (NULL is a no-op); the last one frees the entry. */
void gw_cache_release(const struct gw_cache_entry *entry);
/* Lookups answered from the cache, and not, since start. */
void gw_cache_stats(const struct gw_cache *cache, uint64_t *hits, uint64_t *misses);

#endif
