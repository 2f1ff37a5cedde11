/*
 * Declarations shared inside roster-sandbox: the synthetic company, the HTTP seam the provider
 * emulations are written against (so unit tests drive them without sockets), and the state of
 * one sandbox process (tokens, rate limits, faults, request log).
 */
#ifndef ROSTER_SBX_INT_H
#define ROSTER_SBX_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "roster/rs_buf.h"
#include "roster/rs_err.h"

/* ---------------------------------------------------------------- sbx_company.c: the truth */

#define SBX_NAME_MAX      64
#define SBX_EMAIL_MAX     128
#define SBX_PHONE_MAX     32
#define SBX_UNITS_MAX     128
#define SBX_EMPLOYEES_MAX 1000000
#define SBX_DOMAIN        "sandbox.example"

enum sbx_kind { SBX_KIND_FULL_TIME, SBX_KIND_PART_TIME, SBX_KIND_CONTRACTOR, SBX_KIND_INTERN };
enum sbx_gender { SBX_GENDER_FEMALE, SBX_GENDER_MALE, SBX_GENDER_DIVERSE };
/* Onboarding: hired with a start date after the day the person was recorded. */
enum sbx_state { SBX_STATE_ACTIVE, SBX_STATE_LEAVE, SBX_STATE_ONBOARDING, SBX_STATE_TERMINATED };
enum sbx_unit_kind { SBX_UNIT_DIVISION, SBX_UNIT_DEPARTMENT, SBX_UNIT_TEAM, SBX_UNIT_LOCATION };
#define SBX_UNIT_KINDS 4

/*
 * A named grouping. parent: a department's division, a team's department, a location's
 * subcompany (an index into sbx_pool's subcompanies); -1 for divisions.
 */
struct sbx_unit {
    int id;
    int parent;
    char name[SBX_NAME_MAX];
};

/* One person. Optional strings are "" when absent. Days count from 1970-01-01. */
struct sbx_person {
    int index;
    int manager;                    /* index of the manager, -1 for none */
    int department, team, location; /* unit indexes; team is -1 for none */
    enum sbx_kind kind;
    enum sbx_gender gender;
    enum sbx_state state;
    int weekly_hours;
    int32_t hire_day;
    int32_t term_day; /* meaningful when state == SBX_STATE_TERMINATED */
    bool deleted;
    int64_t created_us;
    int64_t changed_us; /* seed-derived at generation; the wall clock after a control edit */
    char first_name[SBX_NAME_MAX];
    char last_name[SBX_NAME_MAX];
    char preferred_name[SBX_NAME_MAX];
    char title[SBX_NAME_MAX];
    char work_email[SBX_EMAIL_MAX];
    char home_email[SBX_EMAIL_MAX];
    char mobile[SBX_PHONE_MAX];
};

struct sbx_company {
    uint64_t seed;
    int requested; /* the N it was generated with */
    int64_t t0_us; /* the seed-derived "generation date" */
    bool empty;    /* POST /_control/empty: every list answers with nobody */
    struct sbx_person *people;
    size_t count, cap;
    struct sbx_unit units[SBX_UNIT_KINDS][SBX_UNITS_MAX];
    int nunits[SBX_UNIT_KINDS];
};

/*
 * Generates the company for (n, seed); the same pair always gives the same company, and only
 * the change timestamps of later edits read the wall clock. n must be 0..SBX_EMPLOYEES_MAX.
 * On success *out is owned by the caller (sbx_company_free).
 */
enum rs_err sbx_company_new(int n, uint64_t seed, struct sbx_company **out) RS_MUST_CHECK;
void sbx_company_free(struct sbx_company *c);
/* The person at index, or NULL when out of range. Deleted people are returned too. */
struct sbx_person *sbx_company_get(struct sbx_company *c, long index);
/* True when the person appears in the provider APIs at all (not deleted, company not empty). */
bool sbx_company_listed(const struct sbx_company *c, const struct sbx_person *p);
/* The manager of p when it is a listed person (so references never dangle), else NULL. */
const struct sbx_person *sbx_company_manager(const struct sbx_company *c,
                                             const struct sbx_person *p);
/*
 * Direct reports per person among listed, not terminated people: *out gets count entries
 * (caller frees). One O(N) pass, for renderers that need "is a manager" for everyone.
 */
enum rs_err sbx_company_report_counts(const struct sbx_company *c, int **out) RS_MUST_CHECK;
/* A unit's name ("" when idx is -1) and id (0 when -1). */
const char *sbx_company_unit_name(const struct sbx_company *c, enum sbx_unit_kind kind, int idx);
int sbx_company_unit_id(const struct sbx_company *c, enum sbx_unit_kind kind, int idx);
/* The division of a department index. */
int sbx_company_division_of(const struct sbx_company *c, int department);
/* Finds a unit by exact name or adds it (parent as given); -1 when the table is full. */
int sbx_company_unit_intern(struct sbx_company *c, enum sbx_unit_kind kind, const char *name,
                            int parent);
/* "Preferred Last" when a preferred name exists, else "First Last". */
void sbx_company_display_name(const struct sbx_person *p, char *out, size_t outlen);
/* "First Last". */
void sbx_company_full_name(const struct sbx_person *p, char *out, size_t outlen);
/* Appends a new zeroed person (index set) and returns it; NULL on NOMEM or at the ceiling. */
struct sbx_person *sbx_company_append(struct sbx_company *c);

/* Provider ids, all derived from the person index (and back; -1 when not an id of ours). */
long sbx_company_bamboohr_id(int index);
long sbx_company_index_from_bamboohr(const char *id);
int64_t sbx_company_personio_id(int index);
long sbx_company_index_from_personio(int64_t id);
void sbx_company_hibob_id(int index, char out[24]);
long sbx_company_index_from_hibob(const char *id);
int64_t sbx_company_factorial_id(int index);
long sbx_company_index_from_factorial(int64_t id);

/* ---------------------------------------------------------------- sbx_pool.c: name tables */

struct sbx_pool_name {
    const char *name;
    const char *ascii; /* for e-mail local parts */
    enum sbx_gender gender;
};

struct sbx_pool_department {
    const char *name;
    int division;
    const char *manager_title;
    const char *titles[4]; /* NULL-terminated when shorter */
};

struct sbx_pool_location {
    const char *name;
    int subcompany;
    const char *phone_prefix;
    const char *country; /* ISO 3166 alpha-2 */
    const char *state;
};

struct sbx_pool_team {
    const char *name;
    int department;
};

extern const struct sbx_pool_name sbx_pool_first[];
extern const size_t sbx_pool_nfirst;
extern const struct sbx_pool_name sbx_pool_last[];
extern const size_t sbx_pool_nlast;
extern const char *const sbx_pool_nick[];
extern const size_t sbx_pool_nnick;
extern const char *const sbx_pool_division[];
extern const size_t sbx_pool_ndivision;
extern const struct sbx_pool_department sbx_pool_department[];
extern const size_t sbx_pool_ndepartment;
extern const struct sbx_pool_team sbx_pool_team[];
extern const size_t sbx_pool_nteam;
extern const struct sbx_pool_location sbx_pool_location[];
extern const size_t sbx_pool_nlocation;
extern const char *const sbx_pool_subcompany[];
extern const size_t sbx_pool_nsubcompany;
/* The location entry for a location unit name, or NULL for one added through the control API. */
const struct sbx_pool_location *sbx_pool_location_named(const char *name);

/* ---------------------------------------------------------------- sbx_time.c: calendar */

#define SBX_US_PER_DAY INT64_C(86400000000)

int32_t sbx_time_day(int64_t us);
/* "YYYY-MM-DD"; out must hold 11 bytes. Returns out. */
char *sbx_time_date(int32_t day, char out[11]);
/* Strict "YYYY-MM-DD". */
enum rs_err sbx_time_parse_date(const char *text, int32_t *day) RS_MUST_CHECK;
/* Europe/Berlin's UTC offset in minutes (60 or 120) at that instant. */
int sbx_time_berlin_offset(int64_t us);
/* "YYYY-MM-DDTHH:MM:SS+HH:MM" in the given offset (sep is 'T' or ' '); out holds 32 bytes. */
char *sbx_time_iso_offset(int64_t us, int offset_min, char sep, char out[32]);
/* "YYYY-MM-DDTHH:MM:SS.ffffff", UTC without a zone (HiBob's creationDateTime); 32 bytes. */
char *sbx_time_iso_naive(int64_t us, char out[32]);

/* ---------------------------------------------------------------- sbx_json.c: writer */

#define SBX_JSON_DEPTH 24

/*
 * Streams JSON into an rs_buf without building a tree (a 100k-employee HiBob answer is one
 * response). Errors are sticky: after the first failure every call is a no-op and
 * sbx_json_done reports it. key is NULL for array elements and the top-level value.
 */
struct sbx_json {
    struct rs_buf *buf;
    enum rs_err err;
    int depth;
    bool comma[SBX_JSON_DEPTH];
    char close[SBX_JSON_DEPTH];
};

void sbx_json_init(struct sbx_json *js, struct rs_buf *buf);
void sbx_json_obj(struct sbx_json *js, const char *key);
void sbx_json_arr(struct sbx_json *js, const char *key);
void sbx_json_end(struct sbx_json *js);
/* A string, or null when value is NULL. */
void sbx_json_str(struct sbx_json *js, const char *key, const char *value);
/* A string, or null when value is NULL or "". */
void sbx_json_opt(struct sbx_json *js, const char *key, const char *value);
void sbx_json_strf(struct sbx_json *js, const char *key, const char *fmt, ...) RS_PRINTF(3, 4);
void sbx_json_int(struct sbx_json *js, const char *key, int64_t value);
void sbx_json_bool(struct sbx_json *js, const char *key, bool value);
void sbx_json_null(struct sbx_json *js, const char *key);
/* A date "YYYY-MM-DD". */
void sbx_json_date(struct sbx_json *js, const char *key, int32_t day);
/* RS_OK when everything was written and every container closed. */
enum rs_err sbx_json_done(struct sbx_json *js) RS_MUST_CHECK;

/* ---------------------------------------------------------------- sbx_http.c: the seam */

enum sbx_method { SBX_GET, SBX_POST, SBX_PUT, SBX_PATCH, SBX_DELETE, SBX_OTHER };

#define SBX_QUERY_MAX   48
#define SBX_QUERY_BYTES 8192

/* Decoded query parameters (keys too: BambooHR's are `page[limit]`); duplicates are kept. */
struct sbx_query {
    int n;
    const char *key[SBX_QUERY_MAX];
    const char *value[SBX_QUERY_MAX];
    char store[SBX_QUERY_BYTES];
};

/* One request as a provider emulation sees it; every pointer is borrowed. */
struct sbx_req {
    enum sbx_method method;
    const char *path; /* after the provider prefix, without the query: "/v1/people/search" */
    const char *base; /* "http://host:port/<slug>", for absolute links */
    struct sbx_query query;
    const char *authorization; /* NULL when absent */
    const char *api_key;       /* x-api-key header (Factorial), NULL when absent */
    const char *content_type;  /* NULL when absent */
    const char *body;
    size_t body_len;
    int64_t now_us;
    uint64_t log_id; /* this request's entry in the request log (sbx_reqlog_add) */
};

#define SBX_HEADERS_MAX 8
#define SBX_BODY_MAX    ((size_t)1 << 30)

struct sbx_resp {
    int status;
    char content_type[64];
    int nheaders;
    char header_name[SBX_HEADERS_MAX][40];
    char header_value[SBX_HEADERS_MAX][1536]; /* a Location carries a whole redirect URI */
    struct rs_buf body;
};

void sbx_http_resp_init(struct sbx_resp *resp);
void sbx_http_resp_cleanup(struct sbx_resp *resp);
/* Drops status, headers and body, keeping the storage. */
void sbx_http_resp_reset(struct sbx_resp *resp);
/* Adds a response header (silently dropped past SBX_HEADERS_MAX). */
void sbx_http_header(struct sbx_resp *resp, const char *name, const char *fmt, ...) RS_PRINTF(3, 4);
/* Sets status and content type "application/json"; the body is written by the caller. */
void sbx_http_json(struct sbx_resp *resp, int status);
/* A plain-text reply. */
enum rs_err sbx_http_text(struct sbx_resp *resp, int status, const char *text) RS_MUST_CHECK;
/* Parses a raw query string; RS_ERR_TOOBIG past SBX_QUERY_MAX pairs or SBX_QUERY_BYTES. */
enum rs_err sbx_http_query_parse(struct sbx_query *q, const char *raw) RS_MUST_CHECK;
/* First value of key, or NULL. */
const char *sbx_http_query_get(const struct sbx_query *q, const char *key);
/* Decodes "Basic base64(user:pass)"; RS_ERR_AUTH when absent or malformed. */
enum rs_err sbx_http_basic(const char *authorization, char *user, size_t userlen, char *pass,
                           size_t passlen) RS_MUST_CHECK;
/* The token of "Bearer <token>", or NULL. */
const char *sbx_http_bearer(const char *authorization);
/* Strict decimal in [min, max]; false when text is NULL, empty, not a number or out of range. */
bool sbx_http_long(const char *text, long min, long max, long *out);
/* True when the request body is form-encoded. */
bool sbx_http_is_form(const struct sbx_req *req);
/* Parses a form-encoded body into form (no body: no parameters); RS_ERR_TOOBIG past the limits. */
enum rs_err sbx_http_form(const struct sbx_req *req, struct sbx_query *form) RS_MUST_CHECK;
/* How many times key occurs in q. */
int sbx_http_query_count(const struct sbx_query *q, const char *key);
/* Parses the body as a JSON object (NULL body or empty → empty object); NULL if invalid. */
json_t *sbx_http_body_json(const struct sbx_req *req);
/* Percent-decodes src into dst ('+' is a space); false when it does not fit. */
bool sbx_http_decode(const char *src, size_t len, char *dst, size_t dstlen);

/* ---------------------------------------------------------------- sbx_limit.c */

/* One rate-limit counter: a fixed window or a token bucket, whichever the caller uses. */
struct sbx_limit {
    int64_t window_start_us;
    int count;
    double tokens;
    int64_t refilled_us;
};

/*
 * Fixed window of window_us allowing limit requests. Returns true when this request is allowed;
 * *reset_us is when the window ends and *remaining what is left in it (after this request).
 */
bool sbx_limit_window(struct sbx_limit *l, int limit, int64_t window_us, int64_t now_us,
                      int64_t *reset_us, int *remaining);
/* Token bucket of capacity refilled at per_s; *retry_us is the wait for the next token. */
bool sbx_limit_bucket(struct sbx_limit *l, double capacity, double per_s, int64_t now_us,
                      int64_t *retry_us);

/* ---------------------------------------------------------------- process state */

enum sbx_prov { SBX_PROV_BAMBOOHR, SBX_PROV_PERSONIO, SBX_PROV_HIBOB, SBX_PROV_FACTORIAL };
#define SBX_PROV_COUNT 4

enum sbx_limit_id {
    SBX_LIMIT_PERSONIO_AUTH,
    SBX_LIMIT_PERSONIO_EMPLOYEES,
    SBX_LIMIT_PERSONIO_ALL,
    SBX_LIMIT_HIBOB_SEARCH,
};
#define SBX_LIMIT_COUNT 4

#define SBX_TOKENS_MAX 1024
#define SBX_TOKEN_LEN  72

struct sbx_token {
    char value[SBX_TOKEN_LEN];
    int64_t expires_us;
};

enum sbx_fault_kind {
    SBX_FAULT_STATUS,
    SBX_FAULT_SLOW,
    SBX_FAULT_TRUNCATE,
    SBX_FAULT_MALFORMED,
    SBX_FAULT_REVOKE,
};

#define SBX_FAULTS_MAX 64

struct sbx_fault {
    int provider; /* enum sbx_prov, or -1 for any */
    char path_contains[128];
    enum sbx_fault_kind kind;
    int status;
    int retry_after_s; /* -1 when not given */
    int delay_ms;
    int after; /* matching requests let through first */
    int count; /* then this many are affected (revoke: ignored, it lasts until cleared) */
    int seen, fired;
};

/* What an OAuth call carried (GET /_control/requests shows it as "oauth"); never a secret. */
struct sbx_reqlog_oauth {
    uint64_t id; /* the request log entry it belongs to */
    bool set;
    char endpoint[12];   /* authorize, token, revoke */
    char grant_type[24]; /* token */
    char client_id[96];  /* as sent, cut */
    char client_auth[8]; /* basic, body, none */
    char redirect_uri[256];
    char code_verifier[130];
    char scope[128];
    char decision[12]; /* authorize POST: approve, deny */
    char error[32];    /* the OAuth error answered; "" on success */
};

#define SBX_REQLOG_OAUTH_MAX 1024

struct sbx_reqlog_entry {
    int64_t time_us;
    int provider;
    enum sbx_method method;
    int status; /* 0 while the reply is pending */
    char uri[240];
};

#define SBX_REQLOG_MAX 200000

struct sbx_reqlog {
    struct sbx_reqlog_entry *entries; /* a ring once full */
    size_t len, cap, head;
    uint64_t total;                 /* entries ever added: the id of the next one */
    struct sbx_reqlog_oauth *oauth; /* SBX_REQLOG_OAUTH_MAX slots by id, allocated on first use */
};

#define SBX_OAUTH_CODES_MAX     256
#define SBX_OAUTH_GRANTS_MAX    2048
#define SBX_OAUTH_TOKEN_LEN     72
#define SBX_OAUTH_CLIENT_MAX    128
#define SBX_OAUTH_URI_MAX       512
#define SBX_OAUTH_SCOPE_MAX     256
#define SBX_OAUTH_CHALLENGE_MAX 129
#define SBX_OAUTH_STATE_MAX     256
#define SBX_OAUTH_TTL_DEFAULT_S 3600
#define SBX_OAUTH_TTL_MAX_S     31536000
#define SBX_OAUTH_CODE_TTL_US   INT64_C(60000000)

/* An authorization code, bound to what the authorize request carried. */
struct sbx_oauth_code {
    char code[SBX_OAUTH_TOKEN_LEN];
    int provider;
    char client_id[SBX_OAUTH_CLIENT_MAX];
    char redirect_uri[SBX_OAUTH_URI_MAX];
    char challenge[SBX_OAUTH_CHALLENGE_MAX];
    char scope[SBX_OAUTH_SCOPE_MAX];
    int64_t expires_us;
    uint64_t family; /* every grant issued from this code (and its refreshes) */
    bool used;
};

/* One access token and the refresh token issued with it. */
struct sbx_oauth_grant {
    char access[SBX_OAUTH_TOKEN_LEN];
    char refresh[SBX_OAUTH_TOKEN_LEN];
    int provider;
    char client_id[SBX_OAUTH_CLIENT_MAX];
    char scope[SBX_OAUTH_SCOPE_MAX];
    int64_t access_expires_us;
    uint64_t family;
    bool access_dead;  /* revoked */
    bool refresh_dead; /* used (rotated) or revoked */
};

/* The emulated OAuth authorization servers (BambooHR and Factorial); rings once full. */
struct sbx_oauth {
    int64_t access_ttl_s[SBX_PROV_COUNT];
    struct sbx_oauth_code codes[SBX_OAUTH_CODES_MAX];
    int ncodes, next_code;
    struct sbx_oauth_grant grants[SBX_OAUTH_GRANTS_MAX];
    int ngrants, next_grant;
    uint64_t families;
};

struct sbx_ctx {
    struct sbx_company *company;
    int64_t token_ttl_s;
    bool rate_limits;
    bool revoked[SBX_PROV_COUNT];
    struct sbx_limit limits[SBX_LIMIT_COUNT];
    struct sbx_token tokens[SBX_TOKENS_MAX];
    int ntokens;
    int next_token; /* ring position once full */
    struct sbx_fault faults[SBX_FAULTS_MAX];
    int nfaults;
    struct sbx_reqlog reqlog;
    struct sbx_oauth oauth;
};

/* A provider emulation. */
struct sbx_provider {
    const char *slug;
    enum rs_err (*handle)(struct sbx_ctx *ctx, const struct sbx_req *req, struct sbx_resp *resp);
    /*
     * An error reply in the provider's own shape: a 401 carries its auth challenge, a 429 its
     * rate-limit headers (retry_after_s >= 0 also adds Retry-After to other statuses).
     */
    enum rs_err (*error)(const struct sbx_req *req, struct sbx_resp *resp, int status,
                         int retry_after_s);
};

extern const struct sbx_provider sbx_bamboohr_provider;
extern const struct sbx_provider sbx_personio_provider;
extern const struct sbx_provider sbx_hibob_provider;
extern const struct sbx_provider sbx_factorial_provider;

/* ---------------------------------------------------------------- sbx_dataset.c */

/* POST /api/v2/datasets/employee/data (BambooHR), rendered into resp. */
enum rs_err sbx_dataset_handle(struct sbx_ctx *ctx, const struct sbx_req *req,
                               struct sbx_resp *resp) RS_MUST_CHECK;
/* BambooHR's RFC 7807 error body (datasets v2 answers errors this way). */
enum rs_err sbx_dataset_problem(struct sbx_resp *resp, int status, const char *code,
                                const char *detail) RS_MUST_CHECK;

/* ---------------------------------------------------------------- sbx_edit.c: control edits */

/* Each returns RS_ERR_INVALID / NOTFOUND / CONFLICT with eb set; *index gets the person. */
enum rs_err sbx_edit_hire(struct sbx_company *c, json_t *body, int64_t now_us, int *index,
                          struct rs_errbuf *eb) RS_MUST_CHECK;
enum rs_err sbx_edit_patch(struct sbx_company *c, long index, json_t *body, int64_t now_us,
                           struct rs_errbuf *eb) RS_MUST_CHECK;
enum rs_err sbx_edit_terminate(struct sbx_company *c, long index, json_t *body, int64_t now_us,
                               struct rs_errbuf *eb) RS_MUST_CHECK;
enum rs_err sbx_edit_rehire(struct sbx_company *c, long index, json_t *body, int64_t now_us,
                            struct rs_errbuf *eb) RS_MUST_CHECK;
enum rs_err sbx_edit_delete(struct sbx_company *c, long index, int64_t now_us,
                            struct rs_errbuf *eb) RS_MUST_CHECK;

/* ---------------------------------------------------------------- sbx_fault.c */

/* Parses a POST /_control/faults body. */
enum rs_err sbx_fault_parse(json_t *body, struct sbx_fault *out,
                            struct rs_errbuf *eb) RS_MUST_CHECK;
/*
 * Counts this request against every fault it matches and returns the one that fires (the
 * first registered), or NULL. uri is the full request URI (prefix and query included).
 */
const struct sbx_fault *sbx_fault_match(struct sbx_ctx *ctx, int provider, const char *uri);
void sbx_fault_render(const struct sbx_ctx *ctx, struct sbx_json *js);

/* ---------------------------------------------------------------- sbx_oauth.c */

/* Forgets every code and token and restores the default access-token lifetimes. */
void sbx_oauth_reset(struct sbx_oauth *o);
/*
 * POST token endpoint (RFC 6749 §3.2): authorization_code with PKCE S256, refresh_token with
 * rotation; client authentication by HTTP Basic or client_id/client_secret in the body, the
 * secret being "sandbox". Errors are RFC 6749 §5.2 JSON. The call is noted in the request log.
 */
enum rs_err sbx_oauth_token(struct sbx_ctx *ctx, int provider, const struct sbx_req *req,
                            struct sbx_resp *resp) RS_MUST_CHECK;
/* POST revocation endpoint (RFC 7009): 200 for an authenticated client, whatever the token. */
enum rs_err sbx_oauth_revoke(struct sbx_ctx *ctx, int provider, const struct sbx_req *req,
                             struct sbx_resp *resp) RS_MUST_CHECK;
/* NULL when token is a live access token of provider, else why not (for the 401 it causes). */
const char *sbx_oauth_check_access(const struct sbx_ctx *ctx, int provider, const char *token,
                                   int64_t now_us);
/*
 * Issues an authorization code for a validated authorize request into out
 * (SBX_OAUTH_TOKEN_LEN bytes). Every string must fit its sbx_oauth_code field.
 */
void sbx_oauth_code_issue(struct sbx_oauth *o, int provider, const char *client_id,
                          const char *redirect_uri, const char *challenge, const char *scope,
                          int64_t now_us, char *out);
/* Control: every access token of provider (-1: all) expires at now_us. */
void sbx_oauth_expire_all(struct sbx_oauth *o, int provider, int64_t now_us);
/* Control: every code, access and refresh token of provider (-1: all) dies. */
void sbx_oauth_revoke_all(struct sbx_oauth *o, int provider);
/* Control: {"providers": {slug: {access_token_ttl_s, live_access_tokens, live_refresh_tokens}}}. */
void sbx_oauth_render(const struct sbx_ctx *ctx, int64_t now_us, struct sbx_json *js);
/* Copies at most size-1 bytes of src (NULL: "") into dst and terminates it. */
void sbx_oauth_copy(char *dst, size_t size, const char *src);

/* ---------------------------------------------------------------- sbx_authorize.c */

/*
 * The authorize endpoint: GET shows a consent page (app, scopes, Approve/Deny buttons posting
 * back to the same URL); POST with decision=approve|deny redirects to redirect_uri with a code
 * or error=access_denied, and the state. Requests whose client_id or redirect_uri is invalid
 * get an HTML error page, never a redirect; other errors are redirected as RFC 6749 §4.1.2.1.
 */
enum rs_err sbx_authorize_handle(struct sbx_ctx *ctx, int provider, const char *provider_name,
                                 const struct sbx_req *req, struct sbx_resp *resp) RS_MUST_CHECK;

/* ---------------------------------------------------------------- sbx_reqlog.c */

/* Records a received request; returns its id for sbx_reqlog_status (RS_ERR_NOMEM: not kept). */
uint64_t sbx_reqlog_add(struct sbx_reqlog *log, int64_t time_us, int provider,
                        enum sbx_method method, const char *uri);
/* Sets the status of entry id, if it is still kept. */
void sbx_reqlog_status(struct sbx_reqlog *log, uint64_t id, int status);
/* Attaches what an OAuth call carried to entry id (ignored when id is no longer kept). */
void sbx_reqlog_oauth(struct sbx_reqlog *log, uint64_t id, const struct sbx_reqlog_oauth *note);
void sbx_reqlog_clear(struct sbx_reqlog *log);
void sbx_reqlog_free(struct sbx_reqlog *log);
void sbx_reqlog_render(const struct sbx_reqlog *log, struct sbx_json *js);
const char *sbx_reqlog_method_name(enum sbx_method method);

/* ---------------------------------------------------------------- sbx_control.c */

/* Everything under /_control; req->path is the part after "/_control". */
enum rs_err sbx_control_handle(struct sbx_ctx *ctx, const struct sbx_req *req,
                               struct sbx_resp *resp) RS_MUST_CHECK;
/* One person as GET /_control/company shows it. */
void sbx_control_render_person(const struct sbx_company *c, const struct sbx_person *p,
                               struct sbx_json *js);

/* ---------------------------------------------------------------- sbx_server.c */

/* Initializes the process state around an owned company (freed by sbx_server_ctx_cleanup). */
void sbx_server_ctx_init(struct sbx_ctx *ctx, struct sbx_company *company_owned,
                         int64_t token_ttl_s, bool rate_limits);
void sbx_server_ctx_cleanup(struct sbx_ctx *ctx);
/* The provider with that slug (len bytes), or -1. */
int sbx_server_provider_find(const char *slug, size_t len);
const struct sbx_provider *sbx_server_provider(int index);
/*
 * Answers one provider request after fault selection: applies fault (may be NULL) — status,
 * malformed, revoke, truncate — around the provider's handler. Slow faults are the caller's.
 */
enum rs_err sbx_server_respond(struct sbx_ctx *ctx, int provider, const struct sbx_fault *fault,
                               const struct sbx_req *req, struct sbx_resp *resp) RS_MUST_CHECK;
/* Serves until SIGINT/SIGTERM. Logs msg="listening" addr=HOST:PORT once bound. */
enum rs_err sbx_server_run(struct sbx_ctx *ctx, const char *listen_addr,
                           struct rs_errbuf *eb) RS_MUST_CHECK;

#endif
