/*
 * The normalized HRIS model (Merge's common models): which models exist, their fields in
 * Merge's wire order with types, which fields are relations (and so expandable), which are
 * copied into filter columns, and the one function that renders a record to its stored JSON.
 */
#ifndef ROSTER_RS_MODEL_H
#define ROSTER_RS_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "roster/rs_buf.h"
#include "roster/rs_err.h"
#include "roster/rs_uuid.h"

enum rs_model_kind {
    RS_MODEL_EMPLOYEE,
    RS_MODEL_EMPLOYMENT,
    RS_MODEL_GROUP,
    RS_MODEL_TEAM,
    RS_MODEL_LOCATION,
    RS_MODEL_COMPANY,
    RS_MODEL_COUNT,
    RS_MODEL_NONE = -1, /* a relation to a model Roster does not store (pay groups) */
};

enum rs_field_type {
    RS_FT_STRING,   /* string or null */
    RS_FT_DATETIME, /* ISO-8601 string, re-rendered canonically (UTC, Z) */
    RS_FT_BOOL,     /* true/false or null */
    RS_FT_NUMBER,   /* number or null */
    RS_FT_OBJECT,   /* object or null */
    RS_FT_STRINGS,  /* array of strings, or null */
    RS_FT_UUID,     /* a plain id, not expandable */
    RS_FT_REF,      /* id of a related record; expandable */
    RS_FT_REFS,     /* array of ids of related records; expandable */
};

struct rs_field {
    const char *name; /* wire name */
    enum rs_field_type type;
    enum rs_model_kind target; /* for RS_FT_REF/REFS: the related model (or RS_MODEL_NONE) */
    const char *column;        /* filter column the value is copied to, or NULL */
};

struct rs_model {
    enum rs_model_kind kind;
    const char *name;      /* "Employee": webhook event prefix, sync-status model_name */
    const char *model_id;  /* "hris.Employee" */
    const char *path;      /* "employees": URL segment and table name */
    const char *id_prefix; /* "employee": namespace of deterministic ids */
    const struct rs_field *fields;
    size_t nfields;
};

/* The descriptor of a model; kind must be valid. */
const struct rs_model *rs_model_get(enum rs_model_kind kind);
/* The model served at /api/hris/v1/<path>, or NULL. */
const struct rs_model *rs_model_by_path(const char *path, size_t len);
/* The field named name, or NULL. */
const struct rs_field *rs_model_field(const struct rs_model *model, const char *name);

/* The longest remote id Roster accepts (bytes); longer ones are refused as invalid records. */
#define RS_MODEL_REMOTE_ID_MAX 512

/*
 * The deterministic id of a record: UUIDv5(namespace = linked account id,
 * name = "<id_prefix>:<remote_id>"). A relation is resolved without a lookup, and a resync or
 * relink keeps every id. RS_ERR_INVALID for an empty remote id or one longer than
 * RS_MODEL_REMOTE_ID_MAX (no allocation, so no other failure).
 */
enum rs_err rs_model_id(const struct rs_uuid *account, enum rs_model_kind kind,
                        const char *remote_id, struct rs_uuid *out) RS_MUST_CHECK;

/*
 * Renders `record` (a JSON object keyed by wire names; missing keys render as null, unknown
 * keys are ignored) as the model's stored JSON object: every field, in Merge's order, compact.
 * Datetimes are normalized to UTC. Returns RS_ERR_INVALID naming the field in eb when a value
 * has the wrong type (a string where an id is expected that is not a UUID, a bad date, …),
 * RS_ERR_TOOBIG if out's ceiling is hit.
 */
enum rs_err rs_model_render(const struct rs_model *model, const json_t *record, struct rs_buf *out,
                            struct rs_errbuf *eb) RS_MUST_CHECK;

#endif
