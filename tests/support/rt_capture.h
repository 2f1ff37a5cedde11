/*
 * Test helper: a struct prov_sink that checks every record an adapter delivers the way the
 * store would take it (it renders as its model, its remote id is usable), then keeps records
 * and skips for the test to look up. Failed checks fail the running cmocka test.
 */
#ifndef ROSTER_RT_CAPTURE_H
#define ROSTER_RT_CAPTURE_H

#include <stddef.h>

#include <jansson.h>

#include "roster/prov.h"
#include "roster/rs_model.h"

/* For the counting functions: every kind. */
#define RT_CAPTURE_ANY RS_MODEL_COUNT

/* What a sync delivered. Embedded by the test; read it through the functions below. */
struct rt_capture {
    json_t *records;  /* [{kind, remote_id, fields, remote_data}], in delivery order */
    json_t *skipped;  /* [{kind, why}], in order */
    size_t fail_at;   /* the record the sink refuses (1-based, see rt_capture_fail_at); 0: none */
    size_t delivered; /* records offered since rt_capture_fail_at */
};

/* Empty capture; rt_capture_cleanup releases it. Fails the test when out of memory. */
void rt_capture_init(struct rt_capture *cap);
/* Releases what cap holds; safe on a zeroed capture. Every json_t it handed out is gone. */
void rt_capture_cleanup(struct rt_capture *cap);
/* Forgets the records and skips (for another sync run); a pending rt_capture_fail_at stays. */
void rt_capture_clear(struct rt_capture *cap);

/*
 * A sink feeding cap (which must outlive it). Each record must have a remote id of 1 to
 * RS_MODEL_REMOTE_ID_MAX bytes and render with rs_model_render; each skip must give a reason.
 * The record's fields and remote_data are referenced, not copied: the adapter must not change
 * them after delivery.
 */
struct prov_sink rt_capture_sink(struct rt_capture *cap);
/* The n-th record delivered from now on (1-based) is refused with RS_ERR_DB; 0: never. */
void rt_capture_fail_at(struct rt_capture *cap, size_t n);

/*
 * Look-ups by (kind, remote_id) take a real kind, not RT_CAPTURE_ANY.
 * The last delivered record of (kind, remote_id), as the store keeps the last:
 * {kind, remote_id, fields, remote_data (absent when the adapter gave none)}. Borrowed from
 * cap. Fails the test when there is none: ask rt_capture_count_remote_id whether one exists.
 */
const json_t *rt_capture_record(const struct rt_capture *cap, enum rs_model_kind kind,
                                const char *remote_id);
/* The fields of rt_capture_record(cap, kind, remote_id) (borrowed; fails the test likewise). */
const json_t *rt_capture_find(const struct rt_capture *cap, enum rs_model_kind kind,
                              const char *remote_id);

/* How many records of kind (or RT_CAPTURE_ANY) were delivered, repeats included. */
size_t rt_capture_count(const struct rt_capture *cap, enum rs_model_kind kind);
/* How many times (kind, remote_id) was delivered: 0 when never. */
size_t rt_capture_count_remote_id(const struct rt_capture *cap, enum rs_model_kind kind,
                                  const char *remote_id);
/* How many records of kind (or RT_CAPTURE_ANY) were skipped. */
size_t rt_capture_count_skipped(const struct rt_capture *cap, enum rs_model_kind kind);
/* The reason of the index-th skip (0-based, borrowed from cap), or NULL past the last. */
const char *rt_capture_skip_why(const struct rt_capture *cap, size_t index);
/* How many skip reasons contain needle. */
size_t rt_capture_skipped_with(const struct rt_capture *cap, const char *needle);

#endif
