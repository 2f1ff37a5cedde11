/*
 * The webhook outbox's write side: events become rows of webhook_messages (one per event and
 * endpoint that wants it) inside the transaction of the change that causes them, so an event
 * exists if and only if its change was committed. Model events (Employee.added, …) are written
 * by rs_store_apply_events's own statements; everything else goes through rs_outbox_emit. When
 * no enabled endpoint of the organization wants an event type, nothing is written for it.
 * Delivery is the gateway's (gateway/wh_*.c). See docs/design/webhooks.md.
 */
#ifndef ROSTER_RS_OUTBOX_H
#define ROSTER_RS_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "roster/rs_db.h"
#include "roster/rs_err.h"
#include "roster/rs_model.h"
#include "roster/rs_uuid.h"

/* NOTIFY channel that wakes the dispatchers (sent in the writing transaction: at commit). */
#define RS_OUTBOX_CHANNEL "roster_webhooks"

#define RS_EVENT_LINKED         "LinkedAccount.linked"
#define RS_EVENT_SYNC_COMPLETED "LinkedAccount.sync_completed"
#define RS_EVENT_DELETED        "LinkedAccount.deleted"
#define RS_EVENT_ISSUE_NEW      "Issue.new"
#define RS_EVENT_ISSUE_RESOLVED "Issue.resolved"
/* Longest event type name, NUL included. */
#define RS_EVENT_NAME_MAX 40

/* Every event type Roster sends, and how many (for filters and the documentation). */
const char *const *rs_outbox_event_types(size_t *n);
/* True when name is exactly one of them. */
bool rs_outbox_event_known(const char *name);

/* What happened to a record, as bits of struct rs_outbox_plan.wanted. */
enum rs_outbox_change {
    RS_OUTBOX_ADDED = 1u,
    RS_OUTBOX_CHANGED = 2u,
    RS_OUTBOX_REMOVED = 4u,
};
/* "<Model>.added" for change (one bit) of kind, into out. Returns out. */
const char *rs_outbox_model_event(enum rs_model_kind kind, enum rs_outbox_change change,
                                  char out[RS_EVENT_NAME_MAX]);

/* Which model events a sync's apply must write, decided inside its transaction. */
struct rs_outbox_plan {
    bool active;                     /* some endpoint wants some model event of this account */
    bool initial;                    /* the account's first applied sync (its .added events go
                                        only to endpoints with initial_sync_events) */
    unsigned wanted[RS_MODEL_COUNT]; /* enum rs_outbox_change bits some endpoint wants */
    char account[RS_UUID_STR_LEN];
    char org[RS_UUID_STR_LEN];
    char group[24]; /* the ordering group of this transaction's model events, as text */
};

/*
 * Fills plan for a sync of account about to be applied, inside the caller's transaction
 * (RS_ERR_INTERNAL otherwise). When some endpoint wants a model event, it also takes the next
 * ordering group of the account, which locks the account's row until the transaction ends, and
 * queues the dispatchers' wake-up for the commit. Nothing is written otherwise.
 */
enum rs_err rs_outbox_plan_sync(struct rs_db *db, const struct rs_uuid *account,
                                struct rs_outbox_plan *plan, struct rs_errbuf *eb) RS_MUST_CHECK;

/*
 * Writes event `type` of account (UUID text) with data (a JSON text, copied as it is) for every
 * enabled endpoint of the account's organization that wants it, in a new ordering group (after
 * every event the transaction wrote before). Nothing is written when no endpoint wants it.
 * *written (may be NULL) receives the number of messages. Meant to run inside the transaction
 * of the change the event is about.
 */
enum rs_err rs_outbox_emit(struct rs_db *db, const char *account, const char *type,
                           const char *data, size_t *written, struct rs_errbuf *eb) RS_MUST_CHECK;

/*
 * LinkedAccount.linked for account (UUID text), data {"is_relink": …}: call it in the
 * transaction that completes a link (the admin API's create, the link flow's connect). A
 * relink also resolves the account's credentials issue.
 */
enum rs_err rs_outbox_linked(struct rs_db *db, const char *account, bool is_relink,
                             struct rs_errbuf *eb) RS_MUST_CHECK;

/* Connection problems that Issue.new / Issue.resolved announce. */
enum rs_issue_kind {
    RS_ISSUE_CREDENTIALS,       /* the provider refused the credentials: relink needed */
    RS_ISSUE_SYNC_FAILING,      /* syncs keep failing */
    RS_ISSUE_MASS_CHANGE,       /* the mass-change guard holds a sync */
    RS_ISSUE_ENDPOINT_DISABLED, /* rosterd disabled a webhook endpoint (organization-level) */
    RS_ISSUE_KINDS
};
#define RS_ISSUE_BIT(kind) (1u << (kind))

/*
 * Opens the account's (UUID text) issue of kind with description, or, when one is ongoing,
 * records another incident of it. Issue.new is written only when the issue is new.
 */
enum rs_err rs_outbox_issue_open(struct rs_db *db, const char *account, enum rs_issue_kind kind,
                                 const char *description, struct rs_errbuf *eb) RS_MUST_CHECK;
/* Resolves the account's ongoing issues of the kinds in mask (RS_ISSUE_BIT), Issue.resolved
   for each. */
enum rs_err rs_outbox_issue_resolve(struct rs_db *db, const char *account, unsigned mask,
                                    struct rs_errbuf *eb) RS_MUST_CHECK;
/*
 * The same for an organization-level issue about webhook endpoint (UUID text) of org: its
 * events go to the organization's other enabled endpoints that want them, with no linked
 * account.
 */
enum rs_err rs_outbox_endpoint_issue(struct rs_db *db, const char *org, const char *endpoint,
                                     bool open, const char *description,
                                     struct rs_errbuf *eb) RS_MUST_CHECK;

#endif
