/*
 * Link sessions in PostgreSQL (table link_sessions): one per link token / magic link, owned by
 * an organization, carrying the end user's details, the preselected integration, its lifetime
 * and what became of it (completed → the linked account and a public token; revoked). Tokens
 * are looked up by their SHA-256; the state is computed against the database's clock.
 */
#ifndef ROSTER_LF_SESSION_H
#define ROSTER_LF_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "roster/lf_token.h"
#include "roster/rs_db.h"
#include "roster/rs_err.h"
#include "roster/rs_token.h"
#include "roster/rs_uuid.h"

#define LF_TEXT_MAX 256 /* bytes of an end-user field */
#define LF_URL_MAX  2048

struct lf_session {
    struct rs_uuid id;
    char id_text[RS_UUID_STR_LEN];
    char org_text[RS_UUID_STR_LEN];
    char org_name[LF_TEXT_MAX + 1]; /* the organization (the app) that asked */
    char origin_id[LF_TEXT_MAX + 1];
    char end_user_org_name[LF_TEXT_MAX + 1];
    char email[LF_TEXT_MAX + 1];
    char integration[64];                 /* preselected slug, "" for none */
    char base_url[LF_URL_MAX + 1];        /* "" for none */
    char linked_account[RS_UUID_STR_LEN]; /* relinked or created account, "" for none */
    char return_url[LF_URL_MAX + 1];      /* the organization's setting, "" for none */
    char opener_origin[LF_URL_MAX + 1];   /* the organization's setting, "" for none */
    bool magic_link;
    int expiry_mins;
    int64_t created_us, expires_us, used_us, revoked_us; /* 0 for NULL */
    enum lf_link_state state;                            /* at the database's now() */
};

/* What a new session is made of (strings borrowed; NULL for an absent optional one). */
struct lf_session_new {
    const char *org_text;
    const char *origin_id, *end_user_org_name, *email;
    const char *integration;    /* preselected slug */
    const char *base_url;       /* validated by the caller */
    const char *linked_account; /* the account it will relink */
    const char *reissued_from;  /* the session it replaces */
    bool magic_link;
    int expiry_mins;
};

/* The columns lf_session_from_row reads, in order (text format; aliases s and o). */
#define LF_SESSION_COLUMNS                                                                         \
    "s.id, s.organization_id, o.name, s.end_user_origin_id, s.end_user_organization_name, "        \
    "s.end_user_email_address, s.integration, s.base_url, s.linked_account_id, "                   \
    "o.link_return_url, o.link_opener_origin, s.magic_link, s.expiry_mins, "                       \
    "(extract(epoch FROM s.created_at) * 1000000)::int8, "                                         \
    "(extract(epoch FROM s.expires_at) * 1000000)::int8, "                                         \
    "(extract(epoch FROM s.used_at) * 1000000)::int8, "                                            \
    "(extract(epoch FROM s.revoked_at) * 1000000)::int8, "                                         \
    "(extract(epoch FROM now()) * 1000000)::int8"
#define LF_SESSION_FROM "link_sessions s JOIN organizations o ON o.id = s.organization_id"

/* Reads row i of a result selected with LF_SESSION_COLUMNS. RS_ERR_INTERNAL on a bad id. */
enum rs_err lf_session_from_row(const PGresult *res, int i, struct lf_session *out) RS_MUST_CHECK;

/*
 * Inserts a session and writes its new link token (shown once, stored as SHA-256) into token
 * and its id into id. RS_ERR_DB/RS_ERR_UNAVAILABLE on failure (detail in eb).
 */
enum rs_err lf_session_create(struct rs_db *db, const struct lf_session_new *n,
                              char token[RS_TOKEN_MAX_LEN], char id[RS_UUID_STR_LEN],
                              struct rs_errbuf *eb) RS_MUST_CHECK;

/*
 * The session of a link token (any state; the caller checks out->state). lock takes the row
 * FOR UPDATE (inside the caller's transaction). RS_ERR_NOTFOUND for an unknown or malformed
 * token.
 */
enum rs_err lf_session_by_token(struct rs_db *db, const char *token, bool lock,
                                struct lf_session *out, struct rs_errbuf *eb) RS_MUST_CHECK;

/* The session id of organization org. RS_ERR_NOTFOUND when there is none (or not org's). */
enum rs_err lf_session_by_id(struct rs_db *db, const char *org, const char *id,
                             struct lf_session *out, struct rs_errbuf *eb) RS_MUST_CHECK;

/*
 * Marks session id completed for linked account `account` and writes a new public token
 * (valid LF_PUBLIC_TOKEN_TTL_S, one exchange) into public_token. Meant for the caller's
 * transaction, with the session locked and ACTIVE.
 */
enum rs_err lf_session_complete(struct rs_db *db, const char *id, const char *account,
                                char public_token[RS_TOKEN_MAX_LEN],
                                struct rs_errbuf *eb) RS_MUST_CHECK;

/*
 * Revokes session id of org. RS_ERR_NOTFOUND (none such), RS_ERR_CONFLICT (already completed
 * or revoked).
 */
enum rs_err lf_session_revoke(struct rs_db *db, const char *org, const char *id,
                              struct rs_errbuf *eb) RS_MUST_CHECK;

/*
 * Exchanges a public token of org, once: writes the linked account it completed into account.
 * RS_ERR_NOTFOUND when the token is unknown, of another organization, expired or already
 * exchanged (the detail says which family, never the token).
 */
enum rs_err lf_session_exchange(struct rs_db *db, const char *org, const char *public_token,
                                char account[RS_UUID_STR_LEN], struct rs_errbuf *eb) RS_MUST_CHECK;

#endif
