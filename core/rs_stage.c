/*
 * Staging pipeline: the caller renders records into per-model batches; full batches go through
 * a short queue to one background thread that COPYs them on its own connection.
 */
#include "roster/rs_stage.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster/rs_log.h"

#include "rs_int.h"

/* A batch is handed off at this many rows or bytes of COPY text, whichever comes first: small
   enough that the COPY of one overlaps the parsing of the next, large enough that the cost of
   a COPY statement does not matter. */
#define HANDOFF_ROWS  2000
#define HANDOFF_BYTES ((size_t)4 << 20)
/* Batches queued or being copied at once; the caller waits beyond that (bounds memory). */
#define INFLIGHT_MAX 2

struct handoff {
    struct rs_store_batch *batch;
    enum rs_model_kind kind;
    bool full; /* handed off because it filled up (a large sync), not by rs_stage_finish */
};

/* What the account has stored of one model: (id, content hash) sorted by id. */
struct stored {
    bool loaded;
    struct rs_store_row_key *keys;
    size_t n;
};

struct rs_stage {
    struct rs_db *db; /* the thread's */
    struct rs_uuid account, sync_id;
    struct rs_store_batch *filling[RS_MODEL_COUNT]; /* the caller's */

    pthread_mutex_t mu;
    pthread_cond_t changed;
    pthread_t thread;
    bool thread_running;
    struct handoff queue[INFLIGHT_MAX]; /* waiting for the thread */
    size_t queue_head, queued;
    size_t inflight;                              /* queued + the one being copied */
    struct rs_store_batch *spare[RS_MODEL_COUNT]; /* emptied by the thread, for reuse */
    bool closing;                                 /* no more hand-offs: drain and stop */
    enum rs_err failed;                           /* first staging error */
    struct rs_errbuf failed_eb;
    struct rs_store_stats stats[RS_MODEL_COUNT]; /* invalid counts, under mu */
    struct stored stored[RS_MODEL_COUNT];        /* the thread's */

    /* the last remote_data serialized, held (so its address cannot be reused) */
    json_t *dumped_json;
    char *dumped_text;
    size_t dumped_len;
};

static int key_cmp(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(((struct rs_store_row_key *)0)->id));
}

/* Appends the (id, hash) pairs of a result to st; rows without a usable hash are left out. */
static enum rs_err keep_keys(struct stored *st, size_t *cap, const PGresult *res)
{
    size_t n = (size_t)PQntuples(res);

    if (st->n + n > *cap) {
        size_t want = *cap ? *cap : 4096;
        struct rs_store_row_key *keys;

        while (want < st->n + n)
            want *= 2;
        if (!(keys = realloc(st->keys, want * sizeof(*keys))))
            return RS_ERR_NOMEM;
        st->keys = keys;
        *cap = want;
    }
    for (size_t i = 0; i < n; i++) {
        struct rs_store_row_key *key = &st->keys[st->n];

        if (PQgetlength(res, (int)i, 0) != (int)sizeof(key->id) ||
            PQgetlength(res, (int)i, 1) < (int)sizeof(key->hash))
            continue; /* not a hash this version wrote: that row is simply staged in full */
        memcpy(key->id, PQgetvalue(res, (int)i, 0), sizeof(key->id));
        memcpy(key->hash, PQgetvalue(res, (int)i, 1), sizeof(key->hash));
        st->n++;
    }
    return RS_OK;
}

/*
 * Reads the (id, content hash) of every live row of kind stored for the account, once per
 * sync: one pass over the account's rows costs far less than looking each staged row up
 * (random heap reads), and 32 bytes a row stay well inside the sync's memory budget. Read
 * through a cursor, so that a large account's result never sits in memory whole.
 */
static enum rs_err load_stored(struct rs_stage *stage, enum rs_model_kind kind,
                               struct rs_errbuf *eb)
{
    struct stored *st = &stage->stored[kind];
    char sql[256], account_text[RS_UUID_STR_LEN];
    const char *params[1] = {rs_uuid_format(&stage->account, account_text)};
    enum rs_err err;
    PGresult *res = NULL;
    size_t cap = 0;

    st->loaded = true;
    snprintf(sql, sizeof(sql),
             "DECLARE stored_keys NO SCROLL CURSOR FOR SELECT id, content_hash FROM %s "
             "WHERE linked_account_id = $1::uuid AND NOT remote_was_deleted",
             rs_model_get(kind)->path);
    if ((err = rs_db_command(stage->db, "BEGIN")) != RS_OK)
        goto out;
    if (!(res = rs_db_exec(stage->db, sql, 1, params, true, false, &err)))
        goto out;
    do {
        PQclear(res);
        if (!(res = rs_db_exec(stage->db, "FETCH 10000 FROM stored_keys", 0, NULL, true, false,
                               &err)))
            goto out;
        err = keep_keys(st, &cap, res);
    } while (err == RS_OK && PQntuples(res) > 0);
    if (err == RS_OK)
        err = rs_db_command(stage->db, "COMMIT");
out:
    PQclear(res);
    if (err != RS_OK) {
        if (rs_db_command(stage->db, "ROLLBACK") != RS_OK)
            rs_log(RS_LOG_WARN, "rollback failed", NULL);
        return rs_errbuf_set(eb, err, "cannot read the stored %s", rs_model_get(kind)->path);
    }
    if (st->n > 0) /* no keys read: keys may be NULL, which qsort must not get */
        qsort(st->keys, st->n, sizeof(*st->keys), key_cmp);
    return RS_OK;
}

/* Marks the rows of a large sync's batch whose content is already stored. */
static enum rs_err mark_unchanged(struct rs_stage *stage, const struct handoff *job,
                                  struct rs_errbuf *eb)
{
    struct stored *st = &stage->stored[job->kind];
    enum rs_err err;

    /* a small sync (an incremental one) stages its few rows in full: not worth a pass */
    if (!st->loaded && !job->full)
        return RS_OK;
    if (!st->loaded && (err = load_stored(stage, job->kind, eb)) != RS_OK)
        return err;
    for (size_t i = 0; i < rs_store_batch_count(job->batch); i++) {
        const struct rs_store_row_key *key = rs_store_batch_key(job->batch, i);
        const struct rs_store_row_key *found =
            st->n ? bsearch(key, st->keys, st->n, sizeof(*key), key_cmp) : NULL;

        if (found && memcmp(found->hash, key->hash, sizeof(key->hash)) == 0 &&
            (err = rs_store_batch_mark_unchanged(job->batch, i)) != RS_OK)
            return rs_errbuf_set(eb, err, "out of memory staging");
    }
    return RS_OK;
}

static void *stage_thread(void *arg)
{
    struct rs_stage *stage = arg;

    pthread_mutex_lock(&stage->mu);
    for (;;) {
        struct handoff job;
        struct rs_store_stats stats = {0};
        struct rs_errbuf eb = {{0}, {0}};
        enum rs_err err = RS_OK;
        bool skip;

        while (stage->queued == 0 && !stage->closing)
            pthread_cond_wait(&stage->changed, &stage->mu);
        if (stage->queued == 0)
            break;
        job = stage->queue[stage->queue_head];
        stage->queue_head = (stage->queue_head + 1) % INFLIGHT_MAX;
        stage->queued--;
        skip = stage->failed != RS_OK;
        pthread_mutex_unlock(&stage->mu);

        /* after a failure nothing more is staged: the sync fails and its rows are dropped */
        if (!skip)
            err = mark_unchanged(stage, &job, &eb);
        if (!skip && err == RS_OK)
            err = rs_store_batch_stage(job.batch, stage->db, &stats, &eb);

        pthread_mutex_lock(&stage->mu);
        stage->stats[job.kind].invalid += stats.invalid;
        if (err != RS_OK && stage->failed == RS_OK) {
            stage->failed = err;
            stage->failed_eb = eb;
        }
        if (!skip && !stage->spare[job.kind])
            stage->spare[job.kind] = job.batch; /* emptied by the COPY */
        else
            rs_store_batch_free(job.batch);
        stage->inflight--;
        pthread_cond_broadcast(&stage->changed);
    }
    pthread_mutex_unlock(&stage->mu);
    return NULL;
}

enum rs_err rs_stage_new(struct rs_db *db, const struct rs_uuid *account,
                         const struct rs_uuid *sync_id, struct rs_stage **out, struct rs_errbuf *eb)
{
    struct rs_stage *stage = NULL;

    if (!db)
        return rs_errbuf_set(eb, RS_ERR_INTERNAL, "staging needs a connection of its own");
    if (!(stage = calloc(1, sizeof(*stage))))
        return rs_errbuf_set(eb, RS_ERR_NOMEM, "out of memory starting to stage");
    stage->db = db;
    stage->account = *account;
    stage->sync_id = *sync_id;
    pthread_mutex_init(&stage->mu, NULL);
    pthread_cond_init(&stage->changed, NULL);
    for (int k = 0; k < RS_MODEL_COUNT; k++) {
        if (rs_store_batch_new(account, (enum rs_model_kind)k, sync_id, &stage->filling[k]) !=
            RS_OK) {
            rs_stage_free(stage);
            return rs_errbuf_set(eb, RS_ERR_NOMEM, "out of memory starting to stage");
        }
    }
    if (pthread_create(&stage->thread, NULL, stage_thread, stage) != 0) {
        rs_stage_free(stage);
        return rs_errbuf_set(eb, RS_ERR_INTERNAL, "cannot start the staging thread");
    }
    stage->thread_running = true;
    *out = stage;
    return RS_OK;
}

/* Queues the filling batch of kind for the thread and puts an empty one in its place. */
static enum rs_err hand_off(struct rs_stage *stage, enum rs_model_kind kind, bool full,
                            struct rs_errbuf *eb)
{
    struct rs_store_batch *next;
    enum rs_err err;

    pthread_mutex_lock(&stage->mu);
    while (stage->inflight == INFLIGHT_MAX && stage->failed == RS_OK)
        pthread_cond_wait(&stage->changed, &stage->mu);
    err = stage->failed;
    if (err != RS_OK) {
        *eb = stage->failed_eb;
        pthread_mutex_unlock(&stage->mu);
        return err;
    }
    stage->queue[(stage->queue_head + stage->queued) % INFLIGHT_MAX] =
        (struct handoff){stage->filling[kind], kind, full};
    stage->queued++;
    stage->inflight++;
    next = stage->spare[kind];
    stage->spare[kind] = NULL;
    stage->filling[kind] = NULL;
    pthread_cond_broadcast(&stage->changed);
    pthread_mutex_unlock(&stage->mu);

    if (!next && rs_store_batch_new(&stage->account, kind, &stage->sync_id, &next) != RS_OK)
        return rs_errbuf_set(eb, RS_ERR_NOMEM, "out of memory staging");
    stage->filling[kind] = next;
    return RS_OK;
}

/* remote_data serialized; the previous record's text when it is the same object. */
static enum rs_err dump_remote(struct rs_stage *stage, const json_t *remote_data,
                               struct rs_errbuf *eb)
{
    if (remote_data == stage->dumped_json)
        return RS_OK;
    json_decref(stage->dumped_json);
    free(stage->dumped_text);
    stage->dumped_json = NULL;
    stage->dumped_text = rs_store_remote_data_dump(remote_data, &stage->dumped_len);
    if (!stage->dumped_text)
        return rs_errbuf_set(eb, RS_ERR_NOMEM, "out of memory serializing remote_data");
    /* a reference keeps the object alive, so no other object can take its address while the
       text is cached; the adapter does not change a record's remote_data after delivering it */
    stage->dumped_json = json_incref((json_t *)remote_data);
    return RS_OK;
}

enum rs_err rs_stage_add(struct rs_stage *stage, enum rs_model_kind kind,
                         const struct rs_record *record, struct rs_errbuf *eb)
{
    struct rs_store_batch *batch = stage->filling[kind];
    enum rs_err err;

    if (!batch)
        return rs_errbuf_set(eb, RS_ERR_INTERNAL, "staging already failed");
    if (record->remote_data && (err = dump_remote(stage, record->remote_data, eb)) != RS_OK)
        return err;
    err = rs_store_batch_add_dumped(batch, record, record->remote_data ? stage->dumped_text : NULL,
                                    record->remote_data ? stage->dumped_len : 0, eb);
    if (err != RS_OK)
        return err;
    if (rs_store_batch_count(batch) >= HANDOFF_ROWS || rs_store_batch_bytes(batch) >= HANDOFF_BYTES)
        return hand_off(stage, kind, true, eb);
    return RS_OK;
}

/* Tells the thread to stop once the queue is empty and waits for it. */
static void stop_thread(struct rs_stage *stage)
{
    if (!stage->thread_running)
        return;
    pthread_mutex_lock(&stage->mu);
    stage->closing = true;
    pthread_cond_broadcast(&stage->changed);
    pthread_mutex_unlock(&stage->mu);
    pthread_join(stage->thread, NULL);
    stage->thread_running = false;
}

enum rs_err rs_stage_finish(struct rs_stage *stage, struct rs_store_stats stats[RS_MODEL_COUNT],
                            struct rs_errbuf *eb)
{
    enum rs_err err = RS_OK;

    for (int k = 0; k < RS_MODEL_COUNT && err == RS_OK; k++) {
        struct rs_store_batch *batch = stage->filling[k];

        /* a batch with only refused records still carries their count */
        if (batch && (rs_store_batch_count(batch) > 0 || rs_store_batch_invalid(batch) > 0))
            err = hand_off(stage, (enum rs_model_kind)k, false, eb);
    }
    stop_thread(stage);
    for (int k = 0; k < RS_MODEL_COUNT; k++)
        stats[k].invalid += stage->stats[k].invalid;
    if (err == RS_OK && stage->failed != RS_OK) {
        err = stage->failed;
        *eb = stage->failed_eb;
    }
    return err;
}

void rs_stage_free(struct rs_stage *stage)
{
    if (!stage)
        return;
    stop_thread(stage);
    for (int k = 0; k < RS_MODEL_COUNT; k++) {
        rs_store_batch_free(stage->filling[k]);
        rs_store_batch_free(stage->spare[k]);
    }
    for (size_t i = 0; i < stage->queued; i++)
        rs_store_batch_free(stage->queue[(stage->queue_head + i) % INFLIGHT_MAX].batch);
    for (int k = 0; k < RS_MODEL_COUNT; k++)
        free(stage->stored[k].keys);
    json_decref(stage->dumped_json);
    free(stage->dumped_text);
    pthread_cond_destroy(&stage->changed);
    pthread_mutex_destroy(&stage->mu);
    free(stage);
}
