/*
 * Test helper for the adapters' unit tests: one sync of a provider adapter held as the sync
 * engine holds it (credentials, state, token, the request made last), its records delivered to
 * an rt_capture, and checks of the normalized fields. Failed checks fail the running cmocka
 * test.
 */
#ifndef ROSTER_RT_PROV_H
#define ROSTER_RT_PROV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "roster/prov.h"
#include "roster/rs_err.h"
#include "roster/rs_model.h"
#include "roster/rs_uuid.h"
#include "rt_capture.h"

struct rt_prov {
    const struct prov_ops *ops;
    json_t *credentials;     /* owned; sync.credentials points at it */
    struct prov_sync sync;   /* sync.state and sync.token are owned */
    struct rt_capture cap;   /* what parse_response delivered */
    struct prov_sink sink;   /* feeds cap; a test may replace its callbacks */
    struct prov_request req; /* the request next_request made last */
    struct rs_errbuf eb;     /* detail of the last next_request or parse_response */
};

/*
 * A full sync of the adapter registered as slug, for account (UUID text) at now_us, with
 * credentials (owned; NULL: an empty object), an empty state and no token. Free it with
 * rt_prov_free.
 */
struct rt_prov *rt_prov_new(const char *slug, const char *account, int64_t now_us,
                            json_t *credentials_owned);
/* Releases p and everything it owns; NULL is a no-op. */
void rt_prov_free(struct rt_prov *p);

/* The adapter's next request into p->req (the last one wiped and zeroed first, as the engine
   does); what next_request answers, *done set by it. */
enum rs_err rt_prov_next(struct rt_prov *p, bool *done);
/* rt_prov_next that must answer RS_OK: whether the sync is done. */
bool rt_prov_next_ok(struct rt_prov *p);

/* Hands body (len bytes) to parse_response as the 200 answer to the request made last. */
enum rs_err rt_prov_feed_len(struct rt_prov *p, const char *body, size_t len);
/* The same for a NUL-terminated body. */
enum rs_err rt_prov_feed(struct rt_prov *p, const char *body);
/* The same for body as compact JSON text. */
enum rs_err rt_prov_feed_json(struct rt_prov *p, const json_t *body);

/* The UUID text of (kind, remote_id) in p's account, in out. */
const char *rt_prov_uuid(const struct rt_prov *p, enum rs_model_kind kind, const char *remote_id,
                         char out[RS_UUID_STR_LEN]);
/* fields[key] is the string want, or null or missing when want is NULL. */
void rt_prov_expect_str(const json_t *fields, const char *key, const char *want);
/* fields[key] is the UUID of (kind, remote_id) in p's account, or null/missing for NULL. */
void rt_prov_expect_ref(const struct rt_prov *p, const json_t *fields, const char *key,
                        enum rs_model_kind kind, const char *remote_id);

#endif
