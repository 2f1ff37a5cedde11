/*
 * An in-process fixture for integration tests of the read API: a fresh migrated database,
 * records written through rs_store, and gw_hris_list / gw_hris_retrieve called on a stack
 * request (no socket), with pages parsed by jansson and cursors followed forward and back.
 * Helpers fail the running cmocka test instead of returning an error, except the calls whose
 * error is what a test looks at (rt_hris_list, rt_hris_retrieve).
 */
#ifndef ROSTER_RT_HRIS_H
#define ROSTER_RT_HRIS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "gw_int.h"
#include "roster/rs_store.h"

/* Bytes of one page's remote ids, comma-joined, as the walks record them. */
#define RT_HRIS_PAGE_TEXT 2048

struct rt_hris {
    char name[64]; /* the test database */
    char conninfo[1024];
    struct rs_db *db;
    struct gw_app app;                            /* only cursor_key is used */
    struct rs_errbuf eb;                          /* detail of the last list or retrieve */
    struct rs_store_batch *batch[RS_MODEL_COUNT]; /* while writing */
    char account[RS_UUID_STR_LEN];                /* the account being written */
};

/*
 * Makes a fresh migrated database with one organization (id org) and connects to it.
 * Returns 0, or -1 with the reason on stderr (for cmocka setup functions).
 */
int rt_hris_open(struct rt_hris *fx, const char *org);
/* Frees what rt_hris_open and the writes made and drops the database. */
void rt_hris_close(struct rt_hris *fx);

/* Runs sql with up to two text parameters (NULL: fewer); the caller PQclear()s the result. */
PGresult *rt_hris_sql(struct rt_hris *fx, const char *sql, const char *p1, const char *p2);
/* Row 0, column 0 of sql as a number. */
long rt_hris_sql_long(struct rt_hris *fx, const char *sql, const char *p1, const char *p2);
/* Inserts linked account id (COMPLETE) of organization org. */
void rt_hris_add_account(struct rt_hris *fx, const char *org, const char *id, const char *origin);

/* The id of (account, kind, remote_id) as text, in rotating static storage (64 slots). */
const char *rt_hris_id(const char *account, enum rs_model_kind kind, const char *remote_id);

/* Starts writing account's records: one transaction, a batch per model. */
void rt_hris_begin(struct rt_hris *fx, const char *account);
/*
 * Queues a record (fields owned) with remote data [{"path": "/<model path>/<rid>",
 * "data": fields}]; fails the test if the store refuses it.
 */
void rt_hris_put(struct rt_hris *fx, enum rs_model_kind kind, const char *remote_id,
                 json_t *fields);
/* A JSON id of (kind, rid) in the account being written; null for NULL. New reference. */
json_t *rt_hris_ref(struct rt_hris *fx, enum rs_model_kind kind, const char *rid);
/* Flushes every batch and commits. */
void rt_hris_commit(struct rt_hris *fx);

/*
 * Lists kind as account with the query string qs. On RS_OK *out is the parsed page (caller
 * json_decref()s it); otherwise *out is NULL and fx->eb holds the detail.
 */
enum rs_err rt_hris_list(struct rt_hris *fx, const char *account, enum rs_model_kind kind,
                         const char *qs, json_t **out);
/* rt_hris_list that must succeed with exactly Merge's envelope {next, previous, results}. */
json_t *rt_hris_list_ok(struct rt_hris *fx, const char *account, enum rs_model_kind kind,
                        const char *qs);
/* Retrieves id as account; like rt_hris_list otherwise. */
enum rs_err rt_hris_retrieve(struct rt_hris *fx, const char *account, enum rs_model_kind kind,
                             const char *id, const char *qs, json_t **out);

/* The results' remote ids, comma-joined, sorted (shorter first: E2 < E10) or as returned. */
const char *rt_hris_remote_ids(const json_t *page, bool sorted);
/* json_string_value of obj[key], or NULL. */
const char *rt_hris_str(const json_t *obj, const char *key);

/*
 * Follows `next` from the first page of kind?qs (qs without a cursor) to the last, checking
 * that only the first page lacks `previous`. Stores each page's remote ids in pages and the
 * last page's `previous` cursor (or "") in last_previous. Returns the number of pages.
 */
size_t rt_hris_walk(struct rt_hris *fx, const char *account, enum rs_model_kind kind,
                    const char *qs, char pages[][RT_HRIS_PAGE_TEXT], size_t max_pages,
                    char *last_previous, size_t len);
/*
 * From `previous` of the last of npages forward pages, follows `previous` back to the first:
 * every backward page must equal its forward page, have a `next` that leads to the page after
 * it, and only the first may lack `previous`.
 */
void rt_hris_walk_back(struct rt_hris *fx, const char *account, enum rs_model_kind kind,
                       const char *qs, char pages[][RT_HRIS_PAGE_TEXT], size_t npages,
                       const char *previous);
/* The pages joined with commas into out. */
void rt_hris_join(char pages[][RT_HRIS_PAGE_TEXT], size_t n, char *out, size_t len);

#endif
