/*
 * The synthetic company behind every emulated API: deterministic from (N, seed) through our own
 * splitmix64, so two sandboxes started alike serve identical data. Also the lookups and the
 * per-provider ids, which all derive from the person's index.
 */
#include "sbx_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define YEAR_DAYS 365
/* 2025-01-01, the earliest generation date; the seed moves it forward by up to a year */
#define T0_BASE_DAY 20089
#define HIBOB_BASE  INT64_C(3000000000000000000)
#define HIBOB_STEP  INT64_C(7919)

/* splitmix64: tiny, well distributed, and ours (no libc rand state, no platform difference) */
static uint64_t next_rand(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));

    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static int pick(uint64_t *state, int n)
{
    return n <= 1 ? 0 : (int)(next_rand(state) % (uint64_t)n);
}

/* True with probability per_mille/1000. */
static bool chance(uint64_t *state, int per_mille)
{
    return pick(state, 1000) < per_mille;
}

/* Generation state that is not part of the company. */
struct gen {
    uint64_t rng;
    int32_t t0_day;
    int *members[SBX_UNITS_MAX]; /* per department, in hiring order: a heap-shaped tree */
    int nmembers[SBX_UNITS_MAX];
    int *position;         /* each person's place in its department's list */
    uint16_t *email_count; /* per (first, last) name pair */
};

static void gen_cleanup(struct gen *g)
{
    for (int i = 0; i < SBX_UNITS_MAX; i++)
        free(g->members[i]);
    free(g->position);
    free(g->email_count);
}

static void init_units(struct sbx_company *c)
{
    for (size_t i = 0; i < sbx_pool_ndivision; i++)
        (void)sbx_company_unit_intern(c, SBX_UNIT_DIVISION, sbx_pool_division[i], -1);
    for (size_t i = 0; i < sbx_pool_ndepartment; i++)
        (void)sbx_company_unit_intern(c, SBX_UNIT_DEPARTMENT, sbx_pool_department[i].name,
                                      sbx_pool_department[i].division);
    for (size_t i = 0; i < sbx_pool_nteam; i++)
        (void)sbx_company_unit_intern(c, SBX_UNIT_TEAM, sbx_pool_team[i].name,
                                      sbx_pool_team[i].department);
    for (size_t i = 0; i < sbx_pool_nlocation; i++)
        (void)sbx_company_unit_intern(c, SBX_UNIT_LOCATION, sbx_pool_location[i].name,
                                      sbx_pool_location[i].subcompany);
}

/* Engineering and Sales are larger; the first 1 + departments people are the CEO and heads. */
static int pick_department(struct gen *g, int index)
{
    static const int weight[] = {30, 8, 18, 8, 14, 6, 6, 10};
    int r, ndept = (int)sbx_pool_ndepartment;

    if (index == 0)
        return ndept - 1; /* the CEO sits in Operations */
    if (index <= ndept)
        return index - 1;
    r = pick(&g->rng, 100);
    for (int d = 0; d < ndept; d++) {
        if (r < weight[d])
            return d;
        r -= weight[d];
    }
    return 0;
}

static enum rs_err place_in_tree(struct gen *g, struct sbx_person *p)
{
    int d = p->department, k = g->nmembers[d];
    int *grown = realloc(g->members[d], sizeof(int) * (size_t)(k + 1));

    if (!grown)
        return RS_ERR_NOMEM;
    g->members[d] = grown;
    grown[k] = p->index;
    g->nmembers[d] = k + 1;
    g->position[p->index] = k;
    if (p->index == 0)
        p->manager = -1;
    else if (k == 0)
        p->manager = 0; /* a department head reports to the CEO */
    else
        p->manager = grown[(k - 1) / 8]; /* eight reports each: a shallow tree, never a cycle */
    return RS_OK;
}

static void gen_names(struct gen *g, struct sbx_person *p)
{
    int f = pick(&g->rng, (int)sbx_pool_nfirst), l = pick(&g->rng, (int)sbx_pool_nlast);
    uint16_t *count = &g->email_count[f * (int)sbx_pool_nlast + l];
    const char *fa = sbx_pool_first[f].ascii, *la = sbx_pool_last[l].ascii;

    snprintf(p->first_name, sizeof(p->first_name), "%s", sbx_pool_first[f].name);
    snprintf(p->last_name, sizeof(p->last_name), "%s", sbx_pool_last[l].name);
    p->gender = sbx_pool_first[f].gender;
    if (*count == 0)
        snprintf(p->work_email, sizeof(p->work_email), "%s.%s@%s", fa, la, SBX_DOMAIN);
    else
        snprintf(p->work_email, sizeof(p->work_email), "%s.%s%d@%s", fa, la, *count + 1,
                 SBX_DOMAIN);
    if (*count < UINT16_MAX)
        (*count)++;
    if (chance(&g->rng, 250))
        snprintf(p->preferred_name, sizeof(p->preferred_name), "%s",
                 sbx_pool_nick[pick(&g->rng, (int)sbx_pool_nnick)]);
    if (chance(&g->rng, 700))
        snprintf(p->home_email, sizeof(p->home_email), "%s%s%02d@mail.example", fa, la,
                 pick(&g->rng, 100));
}

static void gen_contact(struct gen *g, struct sbx_company *c, struct sbx_person *p)
{
    const struct sbx_pool_location *loc =
        sbx_pool_location_named(sbx_company_unit_name(c, SBX_UNIT_LOCATION, p->location));

    if (loc && chance(&g->rng, 800))
        snprintf(p->mobile, sizeof(p->mobile), "%s %07d", loc->phone_prefix,
                 pick(&g->rng, 10000000));
}

static void gen_kind(struct gen *g, struct sbx_person *p)
{
    int r = pick(&g->rng, 100);

    if (g->position[p->index] < 2 || r < 75) {
        p->kind = SBX_KIND_FULL_TIME;
        p->weekly_hours = 40;
    } else if (r < 85) {
        p->kind = SBX_KIND_PART_TIME;
        p->weekly_hours = 20 + 5 * pick(&g->rng, 3);
    } else if (r < 95) {
        p->kind = SBX_KIND_CONTRACTOR;
        p->weekly_hours = 40;
    } else {
        p->kind = SBX_KIND_INTERN;
        p->weekly_hours = 20;
    }
}

/* Hire dates spread over twelve years; interns are recent; about 1% start in the future. */
static void gen_dates(struct gen *g, struct sbx_person *p)
{
    int span = p->kind == SBX_KIND_INTERN ? YEAR_DAYS : 12 * YEAR_DAYS;

    if (p->index == 0)
        p->hire_day = g->t0_day - 12 * YEAR_DAYS;
    else if (g->position[p->index] > 8 && chance(&g->rng, 10))
        p->hire_day = g->t0_day + 1 + pick(&g->rng, 60);
    else
        p->hire_day = g->t0_day - 1 - pick(&g->rng, span);
    p->state = p->hire_day > g->t0_day ? SBX_STATE_ONBOARDING : SBX_STATE_ACTIVE;
    p->created_us =
        ((int64_t)(p->hire_day < g->t0_day ? p->hire_day : g->t0_day) - 1 - pick(&g->rng, 30)) *
            SBX_US_PER_DAY +
        (int64_t)(next_rand(&g->rng) % (uint64_t)SBX_US_PER_DAY);
}

static enum rs_err gen_person(struct gen *g, struct sbx_company *c, int index)
{
    struct sbx_person *p = sbx_company_append(c);
    int d;
    enum rs_err err;

    if (!p)
        return RS_ERR_NOMEM;
    d = pick_department(g, index);
    p->department = d;
    err = place_in_tree(g, p);
    if (err != RS_OK)
        return err;
    gen_names(g, p);
    p->location = g->position[index] == 0 ? 0 : pick(&g->rng, (int)sbx_pool_nlocation);
    p->team = -1;
    if (g->position[index] > 0 && chance(&g->rng, 900)) {
        int first = -1, n = 0;

        for (size_t t = 0; t < sbx_pool_nteam; t++)
            if (sbx_pool_team[t].department == d && n++ == 0)
                first = (int)t;
        p->team = first + pick(&g->rng, n);
    }
    gen_contact(g, c, p);
    gen_kind(g, p);
    gen_dates(g, p);
    p->changed_us = c->t0_us;
    return RS_OK;
}

static bool has_tree_reports(const struct gen *g, const struct sbx_person *p)
{
    return 8 * g->position[p->index] + 1 < g->nmembers[p->department];
}

static void gen_title(struct gen *g, struct sbx_person *p)
{
    const struct sbx_pool_department *dept = &sbx_pool_department[p->department];
    int ntitles = 0;

    if (p->index == 0) {
        snprintf(p->title, sizeof(p->title), "Chief Executive Officer");
    } else if (g->position[p->index] == 0) {
        snprintf(p->title, sizeof(p->title), "Head of %s", dept->name);
    } else if (has_tree_reports(g, p)) {
        snprintf(p->title, sizeof(p->title), "%s", dept->manager_title);
    } else if (p->kind == SBX_KIND_INTERN) {
        snprintf(p->title, sizeof(p->title), "%s Intern", dept->name);
    } else {
        while (ntitles < 4 && dept->titles[ntitles])
            ntitles++;
        snprintf(p->title, sizeof(p->title), "%s", dept->titles[pick(&g->rng, ntitles)]);
    }
}

/* Leavers and people on leave are drawn among those nobody reports to: ~5% and ~2%. */
static void gen_state(struct gen *g, struct sbx_person *p)
{
    int32_t span = g->t0_day - p->hire_day;

    if (p->index == 0 || has_tree_reports(g, p) || p->state != SBX_STATE_ACTIVE)
        return;
    if (span >= 2 && chance(&g->rng, 58)) {
        p->state = SBX_STATE_TERMINATED;
        p->term_day = p->hire_day + 1 + pick(&g->rng, span);
    } else if (chance(&g->rng, 20)) {
        p->state = SBX_STATE_LEAVE;
    }
}

static enum rs_err generate(struct sbx_company *c, int n)
{
    struct gen g;
    enum rs_err err = RS_ERR_NOMEM;

    memset(&g, 0, sizeof(g));
    g.rng = c->seed ^ UINT64_C(0x5EED5A1DB0C5C0DE);
    g.t0_day = sbx_time_day(c->t0_us);
    g.position = calloc((size_t)(n > 0 ? n : 1), sizeof(int));
    g.email_count = calloc(sbx_pool_nfirst * sbx_pool_nlast, sizeof(uint16_t));
    if (!g.position || !g.email_count)
        goto out;
    for (int i = 0; i < n; i++) {
        err = gen_person(&g, c, i);
        if (err != RS_OK)
            goto out;
    }
    for (size_t i = 0; i < c->count; i++) {
        gen_title(&g, &c->people[i]);
        gen_state(&g, &c->people[i]);
    }
    err = RS_OK;
out:
    gen_cleanup(&g);
    return err;
}

enum rs_err sbx_company_new(int n, uint64_t seed, struct sbx_company **out)
{
    struct sbx_company *c = NULL;
    enum rs_err err = RS_ERR_INVALID;

    if (n < 0 || n > SBX_EMPLOYEES_MAX)
        goto out;
    err = RS_ERR_NOMEM;
    c = calloc(1, sizeof(*c));
    if (!c)
        goto out;
    c->seed = seed;
    c->requested = n;
    /* the generation date: a day in 2025 chosen by the seed, 09:00 UTC */
    c->t0_us = (int64_t)(T0_BASE_DAY + (int32_t)(seed % YEAR_DAYS)) * SBX_US_PER_DAY +
               INT64_C(9) * 3600000000;
    init_units(c);
    err = generate(c, n);
    if (err != RS_OK)
        goto out;
    *out = c;
    c = NULL;
out:
    sbx_company_free(c);
    return err;
}

void sbx_company_free(struct sbx_company *c)
{
    if (!c)
        return;
    free(c->people);
    free(c);
}

struct sbx_person *sbx_company_append(struct sbx_company *c)
{
    struct sbx_person *p;

    if (c->count >= SBX_EMPLOYEES_MAX)
        return NULL;
    if (c->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct sbx_person *grown = realloc(c->people, cap * sizeof(*grown));

        if (!grown)
            return NULL;
        c->people = grown;
        c->cap = cap;
    }
    p = &c->people[c->count];
    memset(p, 0, sizeof(*p));
    p->index = (int)c->count++;
    p->manager = -1;
    p->team = -1;
    return p;
}

struct sbx_person *sbx_company_get(struct sbx_company *c, long index)
{
    if (index < 0 || (size_t)index >= c->count)
        return NULL;
    return &c->people[index];
}

bool sbx_company_listed(const struct sbx_company *c, const struct sbx_person *p)
{
    return !c->empty && !p->deleted;
}

const struct sbx_person *sbx_company_manager(const struct sbx_company *c,
                                             const struct sbx_person *p)
{
    const struct sbx_person *m;

    if (p->manager < 0 || (size_t)p->manager >= c->count)
        return NULL;
    m = &c->people[p->manager];
    return sbx_company_listed(c, m) ? m : NULL;
}

enum rs_err sbx_company_report_counts(const struct sbx_company *c, int **out)
{
    int *counts = calloc(c->count ? c->count : 1, sizeof(int));

    if (!counts)
        return RS_ERR_NOMEM;
    for (size_t i = 0; i < c->count; i++) {
        const struct sbx_person *p = &c->people[i];

        if (!sbx_company_listed(c, p) || p->state == SBX_STATE_TERMINATED)
            continue;
        if (sbx_company_manager(c, p))
            counts[p->manager]++;
    }
    *out = counts;
    return RS_OK;
}

const char *sbx_company_unit_name(const struct sbx_company *c, enum sbx_unit_kind kind, int idx)
{
    if (idx < 0 || idx >= c->nunits[kind])
        return "";
    return c->units[kind][idx].name;
}

int sbx_company_unit_id(const struct sbx_company *c, enum sbx_unit_kind kind, int idx)
{
    if (idx < 0 || idx >= c->nunits[kind])
        return 0;
    return c->units[kind][idx].id;
}

int sbx_company_division_of(const struct sbx_company *c, int department)
{
    if (department < 0 || department >= c->nunits[SBX_UNIT_DEPARTMENT])
        return -1;
    return c->units[SBX_UNIT_DEPARTMENT][department].parent;
}

int sbx_company_unit_intern(struct sbx_company *c, enum sbx_unit_kind kind, const char *name,
                            int parent)
{
    /* ids look like the providers' (Personio's are six digits), distinct per kind */
    static const int base[SBX_UNIT_KINDS] = {271000, 281500, 59000, 131000};
    int n = c->nunits[kind];

    for (int i = 0; i < n; i++)
        if (strcmp(c->units[kind][i].name, name) == 0)
            return i;
    if (n >= SBX_UNITS_MAX || strlen(name) >= SBX_NAME_MAX || !name[0])
        return -1;
    c->units[kind][n].id = base[kind] + 1 + n;
    c->units[kind][n].parent = parent;
    snprintf(c->units[kind][n].name, SBX_NAME_MAX, "%s", name);
    c->nunits[kind] = n + 1;
    return n;
}

void sbx_company_display_name(const struct sbx_person *p, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s %s", p->preferred_name[0] ? p->preferred_name : p->first_name,
             p->last_name);
}

void sbx_company_full_name(const struct sbx_person *p, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s %s", p->first_name, p->last_name);
}

long sbx_company_bamboohr_id(int index)
{
    return (long)index + 1;
}

/* Strict unsigned decimal that fits an int64; -1 otherwise. */
static int64_t parse_id(const char *text)
{
    char *end;
    long long v;

    if (!text || text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno || *end || v < 0)
        return -1;
    return v;
}

long sbx_company_index_from_bamboohr(const char *id)
{
    int64_t v = parse_id(id);

    return v >= 1 && v <= SBX_EMPLOYEES_MAX ? (long)(v - 1) : -1;
}

int64_t sbx_company_personio_id(int index)
{
    return INT64_C(1000001) + index;
}

long sbx_company_index_from_personio(int64_t id)
{
    int64_t v = id - INT64_C(1000001);

    return v >= 0 && v < SBX_EMPLOYEES_MAX ? (long)v : -1;
}

void sbx_company_hibob_id(int index, char out[24])
{
    snprintf(out, 24, "%" PRId64, HIBOB_BASE + HIBOB_STEP * index);
}

long sbx_company_index_from_hibob(const char *id)
{
    int64_t v = parse_id(id);

    if (v < HIBOB_BASE || (v - HIBOB_BASE) % HIBOB_STEP != 0)
        return -1;
    v = (v - HIBOB_BASE) / HIBOB_STEP;
    return v < SBX_EMPLOYEES_MAX ? (long)v : -1;
}

int64_t sbx_company_factorial_id(int index)
{
    return INT64_C(4000001) + index;
}

long sbx_company_index_from_factorial(int64_t id)
{
    int64_t v = id - INT64_C(4000001);

    return v >= 0 && v < SBX_EMPLOYEES_MAX ? (long)v : -1;
}
