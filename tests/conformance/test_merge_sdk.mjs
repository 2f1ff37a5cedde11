// Merge's official Node SDK (@mergeapi/merge-node-client, version pinned in package.json)
// against a live rosterd holding the example company (`rosterd seed-example`). Run by run.sh,
// which provides ROSTER_URL, ROSTER_API_KEY, ROSTER_ACCOUNT_TOKEN, ROSTER_OTHER_API_KEY and
// ROSTER_OTHER_ACCOUNT_TOKEN. The SDK does not throw when a response drifts from Merge's schema:
// it calls console.warn("Failed to validate. ...") and hands back the raw value. So any
// console.warn or console.error, from anywhere, fails the run.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

import { env } from "./env.mjs";

const consoleCalls = [];
for (const level of ["warn", "error"]) {
    const original = console[level].bind(console);
    console[level] = (...args) => {
        consoleCalls.push(`console.${level}: ${args.map(String).join(" ")}`);
        original(...args);
    };
}

const require = createRequire(import.meta.url);
const { MergeClient, MergeError } = require("@mergeapi/merge-node-client");
const serializers = require("@mergeapi/merge-node-client/serialization");

const ROSTER_URL = env("ROSTER_URL");
const API_KEY = env("ROSTER_API_KEY");
const ACCOUNT_TOKEN = env("ROSTER_ACCOUNT_TOKEN");
const OTHER_API_KEY = env("ROSTER_OTHER_API_KEY");
const OTHER_ACCOUNT_TOKEN = env("ROSTER_OTHER_ACCOUNT_TOKEN");
const N = Number(process.env.ROSTER_EXAMPLE_EMPLOYEES ?? 300);
const OTHER_N = Number(process.env.ROSTER_OTHER_EXAMPLE_EMPLOYEES ?? 20);

const client = (apiKey, accountToken) =>
    new MergeClient({ apiKey, accountToken, baseUrl: `${ROSTER_URL}/api`, maxRetries: 0,
                      timeoutInSeconds: 20 });
const merge = client(API_KEY, ACCOUNT_TOKEN);
const hris = merge.hris;

// ---------------------------------------------------------------------------------------------
// What the example company holds (gateway/gw_seed.c), for N employees.

const range = (n) => Array.from({ length: n }, (_, i) => i);
const EXPECTED = {
    employees: N,
    employments: N,
    groups: 8 + 3, // departments + cost centers
    teams: Math.min(2000, Math.max(8, Math.floor(N / 12))),
    locations: 5,
    companies: 1,
};
const isLeaver = (i) => i % 25 === 7;
const EXPECTED_STATUS = {
    INACTIVE: range(N).filter(isLeaver).length,
    PENDING: range(N).filter((i) => !isLeaver(i) && i % 50 === 3).length,
};
EXPECTED_STATUS.ACTIVE = N - EXPECTED_STATUS.INACTIVE - EXPECTED_STATUS.PENDING;

// ---------------------------------------------------------------------------------------------
// Merge's models as documented (/work/shared/reference/merge-hris-api.md §1), in wire order,
// with the JSON type of each field. Types: s string, dt ISO-8601 date-time, b boolean,
// n number, o object, ss array of strings, ref:<model> an id (or the object when expanded),
// refs:<model> an array of those, enum:<name>, rd remote_data.

const ENUMS = {
    EmploymentStatus: ["ACTIVE", "PENDING", "INACTIVE"],
    GroupType: ["TEAM", "DEPARTMENT", "COST_CENTER", "BUSINESS_UNIT", "GROUP"],
    EmploymentType: ["FULL_TIME", "PART_TIME", "INTERN", "CONTRACTOR", "FREELANCE"],
    FlsaStatus: ["EXEMPT", "SALARIED_NONEXEMPT", "NONEXEMPT", "OWNER"],
    PayPeriod: ["HOUR", "DAY", "WEEK", "EVERY_TWO_WEEKS", "SEMIMONTHLY", "MONTH", "QUARTER",
                "EVERY_SIX_MONTHS", "YEAR"],
    PayFrequency: ["WEEKLY", "BIWEEKLY", "MONTHLY", "QUARTERLY", "SEMIANNUALLY", "ANNUALLY",
                   "THIRTEEN-MONTHLY", "PRO_RATA", "SEMIMONTHLY"],
    Gender: ["MALE", "FEMALE", "NON-BINARY", "OTHER", "PREFER_NOT_TO_DISCLOSE"],
    Ethnicity: ["AMERICAN_INDIAN_OR_ALASKA_NATIVE", "ASIAN_OR_INDIAN_SUBCONTINENT",
                "BLACK_OR_AFRICAN_AMERICAN", "HISPANIC_OR_LATINO",
                "NATIVE_HAWAIIAN_OR_OTHER_PACIFIC_ISLANDER", "TWO_OR_MORE_RACES", "WHITE",
                "PREFER_NOT_TO_DISCLOSE"],
    MaritalStatus: ["SINGLE", "MARRIED_FILING_JOINTLY", "MARRIED_FILING_SEPARATELY",
                    "HEAD_OF_HOUSEHOLD", "QUALIFYING_WIDOW_OR_WIDOWER_WITH_DEPENDENT_CHILD"],
    LocationType: ["HOME", "WORK"],
    AccountStatus: ["COMPLETE", "INCOMPLETE", "RELINK_NEEDED", "IDLE"],
};

const COMMON_HEAD = [["id", "s"], ["remote_id", "s"], ["created_at", "dt"], ["modified_at", "dt"]];
const COMMON_TAIL = [["remote_was_deleted", "b"], ["field_mappings", "o"], ["remote_data", "rd"]];
const model = (sdkName, fields) => ({
    sdkName,
    fields: [...COMMON_HEAD, ...fields, ...COMMON_TAIL],
});
const MODELS = {
    employees: model("Employee", [
        ["employee_number", "s"], ["company", "ref:companies"], ["first_name", "s"],
        ["last_name", "s"], ["preferred_name", "s"], ["display_full_name", "s"], ["username", "s"],
        ["groups", "refs:groups"], ["work_email", "s"], ["personal_email", "s"],
        ["mobile_phone_number", "s"], ["employments", "refs:employments"],
        ["home_location", "ref:locations"], ["work_location", "ref:locations"],
        ["manager", "ref:employees"], ["team", "ref:teams"], ["pay_group", "ref:pay-groups"],
        ["ssn", "s"], ["gender", "enum:Gender"], ["ethnicity", "enum:Ethnicity"],
        ["marital_status", "enum:MaritalStatus"], ["date_of_birth", "dt"], ["hire_date", "dt"],
        ["start_date", "dt"], ["remote_created_at", "dt"],
        ["employment_status", "enum:EmploymentStatus"], ["termination_date", "dt"],
        ["avatar", "s"], ["custom_fields", "o"],
    ]),
    employments: model("Employment", [
        ["employee", "ref:employees"], ["job_title", "s"], ["pay_rate", "n"],
        ["pay_period", "enum:PayPeriod"], ["pay_frequency", "enum:PayFrequency"],
        ["pay_currency", "currency"], ["pay_group", "ref:pay-groups"],
        ["flsa_status", "enum:FlsaStatus"], ["effective_date", "dt"],
        ["employment_type", "enum:EmploymentType"],
    ]),
    groups: model("Group", [
        ["parent_group", "uuid"], ["name", "s"], ["type", "enum:GroupType"],
        ["is_commonly_used_as_team", "b"],
    ]),
    teams: model("Team", [["name", "s"], ["parent_team", "ref:teams"]]),
    locations: model("Location", [
        ["name", "s"], ["phone_number", "s"], ["street_1", "s"], ["street_2", "s"], ["city", "s"],
        ["state", "s"], ["zip_code", "s"], ["country", "country"],
        ["location_type", "enum:LocationType"],
    ]),
    companies: model("Company", [["legal_name", "s"], ["display_name", "s"], ["eins", "ss"]]),
};
const ACCOUNT_DETAILS_FIELDS = ["id", "integration", "integration_slug", "category",
    "end_user_origin_id", "end_user_organization_name", "end_user_email_address", "status",
    "webhook_listener_url", "is_duplicate", "account_type", "completed_at"];
const LINKED_ACCOUNT_FIELDS = ["id", "category", "status", "status_detail", "end_user_origin_id",
    "end_user_organization_name", "end_user_email_address", "subdomain", "webhook_listener_url",
    "is_duplicate", "integration", "account_type", "completed_at", "integration_specific_fields"];
const LINKED_ACCOUNT_INTEGRATION_FIELDS = ["name", "categories", "image", "square_image", "color",
    "slug", "passthrough_available", "available_model_operations"];
const ENVELOPE = ["next", "previous", "results"];

const fieldNames = (name) => MODELS[name].fields.map(([field]) => field);
const sdkSchema = (name) => serializers.hris[MODELS[name].sdkName];
/* wire name → the SDK's camelCase property name, from the SDK's own serializer */
const parsedName = (schema, raw) => {
    const rawNames = schema._getRawProperties();
    const parsedNames = schema._getParsedProperties();
    const index = rawNames.indexOf(raw);
    assert.ok(index >= 0, `the SDK has no property ${raw}`);
    return parsedNames[index];
};

// ---------------------------------------------------------------------------------------------
// A small runner: sequential tests, each also failing on console.warn/error during it.

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

async function runAll() {
    let passed = 0;
    let failed = 0;
    const started = Date.now();
    for (const { name, fn } of tests) {
        const callsBefore = consoleCalls.length;
        const t0 = Date.now();
        let error = null;
        try {
            await fn();
        } catch (e) {
            error = e;
        }
        if (!error && consoleCalls.length > callsBefore)
            error = new Error(`console.warn/error during the test (the SDK's schema validation?):\n` +
                              consoleCalls.slice(callsBefore).join("\n"));
        if (error) {
            failed++;
            console.log(`not ok - ${name}`);
            console.log(`  ${String(error.stack ?? error).split("\n").join("\n  ")}`);
        } else {
            passed++;
            console.log(`ok - ${name} (${Date.now() - t0} ms)`);
        }
    }
    if (consoleCalls.length > 0 && failed === 0) {
        failed++;
        console.log(`not ok - console.warn/error was called ${consoleCalls.length} time(s)`);
    }
    console.log(`${passed} passed, ${failed} failed (${Date.now() - started} ms)`);
    return failed === 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP next to the SDK, for what the SDK's parsing hides (key order, exact JSON).

async function rawGet(path, { apiKey = API_KEY, accountToken = ACCOUNT_TOKEN } = {}) {
    const headers = { Authorization: `Bearer ${apiKey}` };
    if (accountToken) headers["X-Account-Token"] = accountToken;
    const response = await fetch(`${ROSTER_URL}/api/hris/v1/${path}`, { headers });
    const text = await response.text();
    assert.equal(response.status, 200, `GET ${path}: ${response.status} ${text.slice(0, 300)}`);
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/,
                 `GET ${path}: content-type`);
    return JSON.parse(text);
}

/* Every object of a listing, following `next` cursors; checks the envelope of each page. */
async function rawListAll(path, pageSize) {
    const objects = [];
    let cursor = null;
    let pages = 0;
    do {
        const sep = path.includes("?") ? "&" : "?";
        const query = `page_size=${pageSize}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
        const page = await rawGet(`${path}${sep}${query}`);
        assert.deepEqual(Object.keys(page), ENVELOPE, `${path}: the envelope's keys`);
        for (const key of ["next", "previous"]) {
            if (page[key] === null) continue;
            assert.equal(typeof page[key], "string", `${path}: ${key}`);
            assert.match(page[key], /^[A-Za-z0-9_=-]+$/, `${path}: ${key} is a bare cursor token`);
        }
        assert.equal(page.previous === null, pages === 0, `${path}: previous only after page 1`);
        assert.ok(page.results.length <= pageSize, `${path}: at most page_size results`);
        objects.push(...page.results);
        cursor = page.next;
        pages++;
        assert.ok(pages < 1000, `${path}: the cursors never end`);
    } while (cursor);
    return { objects, pages };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DATETIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/;
const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);

/* Checks the type of every field of a raw (unexpanded) object. */
function checkRawObject(name, obj) {
    const where = `${name} ${obj.id}`;
    assert.deepEqual(Object.keys(obj), fieldNames(name), `${where}: keys (and their order)`);
    for (const [field, type] of MODELS[name].fields) {
        const value = obj[field];
        const at = `${where}.${field}`;
        if (["id", "created_at", "modified_at", "remote_was_deleted", "field_mappings"].includes(field))
            assert.notEqual(value, null, `${at} is always set`);
        if (value === null) continue;
        if (type === "s") assert.equal(typeof value, "string", at);
        else if (type === "dt") assert.match(value, DATETIME, at);
        else if (type === "b") assert.equal(typeof value, "boolean", at);
        else if (type === "n") assert.equal(typeof value, "number", at);
        else if (type === "o") assert.ok(isObject(value), `${at} is an object`);
        else if (type === "uuid" || type.startsWith("ref:")) assert.match(value, UUID, at);
        else if (type.startsWith("refs:")) {
            assert.ok(Array.isArray(value), `${at} is an array`);
            value.forEach((id) => assert.match(id, UUID, at));
        } else if (type === "ss") {
            assert.ok(Array.isArray(value), `${at} is an array`);
            value.forEach((s) => assert.equal(typeof s, "string", at));
        } else if (type.startsWith("enum:")) assert.ok(ENUMS[type.slice(5)].includes(value),
                                                       `${at}: ${value} is not a Merge value`);
        else if (type === "currency") assert.match(value, /^[A-Z]{3}$/, at);
        else if (type === "country") assert.match(value, /^[A-Z]{2}$/, at);
        else if (type === "rd") assert.fail(`${at}: remote_data without include_remote_data`);
    }
    assert.deepEqual(obj.field_mappings,
                     { organization_defined_targets: {}, linked_account_defined_targets: {} },
                     `${where}.field_mappings`);
}

/* Checks an object as the SDK returns it: every property, camelCase, dates as Date. */
function checkSdkObject(name, sdkObj, rawObj) {
    const schema = sdkSchema(name);
    const where = `${name} ${rawObj.id} (SDK)`;
    assert.deepEqual(Object.keys(sdkObj), schema._getParsedProperties(),
                     `${where}: the SDK's properties`);
    for (const [field, type] of MODELS[name].fields) {
        const value = sdkObj[parsedName(schema, field)];
        if (rawObj[field] === null) {
            assert.equal(value, undefined, `${where}.${field}: null reads as undefined`);
        } else if (type === "dt") {
            assert.ok(value instanceof Date, `${where}.${field} is a Date`);
            assert.equal(value.getTime(), new Date(rawObj[field]).getTime(), `${where}.${field}`);
        } else {
            assert.deepEqual(value, rawObj[field], `${where}.${field}`);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// State shared by the tests (filled by the listing tests, which run first).

const raw = {};   // model → Map(id → raw object)
const sdk = {};   // model → Map(id → SDK object)

// ---------------------------------------------------------------------------------------------

test("the SDK is the pinned version", () => {
    const pinned = JSON.parse(readFileSync(new URL("./package.json", import.meta.url)))
        .dependencies["@mergeapi/merge-node-client"];
    assert.match(pinned, /^\d+\.\d+\.\d+$/, "package.json pins an exact version");
    const installed = JSON.parse(readFileSync(require.resolve(
        "@mergeapi/merge-node-client/package.json"))).version;
    assert.equal(installed, pinned);
    console.log(`# @mergeapi/merge-node-client ${installed} against ${ROSTER_URL}`);
});

test("the documented field lists are the SDK's own", () => {
    for (const name of Object.keys(MODELS))
        assert.deepEqual(sdkSchema(name)._getRawProperties(), fieldNames(name), name);
    assert.deepEqual(serializers.hris.AccountDetails._getRawProperties(), ACCOUNT_DETAILS_FIELDS);
    assert.deepEqual(serializers.hris.AccountDetailsAndActions._getRawProperties(),
                     LINKED_ACCOUNT_FIELDS);
    assert.deepEqual(serializers.hris.AccountDetailsAndActionsIntegration._getRawProperties(),
                     LINKED_ACCOUNT_INTEGRATION_FIELDS);
});

const PAGE_SIZES = { employees: 37, employments: 100, groups: 4, teams: 10, locations: 2,
                     companies: 100 };

for (const name of Object.keys(MODELS)) {
    test(`${name}: list pages through the SDK, every field present and typed`, async () => {
        const pageSize = PAGE_SIZES[name];
        const expectedPages = Math.max(1, Math.ceil(EXPECTED[name] / pageSize));

        // page by page, through the SDK's Page
        const page = await hris[name].list({ pageSize });
        const seen = [...page.data];
        let pages = 1;
        assert.ok(page.data.length <= pageSize);
        while (page.hasNextPage()) {
            await page.getNextPage();
            assert.ok(page.data.length <= pageSize);
            seen.push(...page.data);
            pages++;
            assert.ok(pages <= expectedPages, "more pages than the data needs");
        }
        assert.equal(pages, expectedPages, "pages");

        // the same with `for await`, which the SDK's README shows
        const items = [];
        for await (const item of await hris[name].list({ pageSize }))
            items.push(item);
        assert.equal(items.length, EXPECTED[name], "count");
        const ids = new Set(items.map((item) => item.id));
        assert.equal(ids.size, items.length, "no duplicate ids");
        assert.deepEqual(new Set(seen.map((item) => item.id)), ids, "page-by-page = for await");

        // the raw JSON of the same listing
        const listing = await rawListAll(name, 100);
        assert.equal(listing.objects.length, EXPECTED[name], "raw count");
        assert.equal(listing.pages, Math.max(1, Math.ceil(EXPECTED[name] / 100)),
                     "raw pages of 100 (no empty page after an exact multiple)");
        raw[name] = new Map(listing.objects.map((obj) => [obj.id, obj]));
        assert.equal(raw[name].size, listing.objects.length, "raw: no duplicate ids");
        assert.deepEqual(new Set(raw[name].keys()), ids, "raw ids = SDK ids");
        for (const obj of listing.objects) checkRawObject(name, obj);
        sdk[name] = new Map(items.map((item) => [item.id, item]));
        for (const item of items) checkSdkObject(name, item, raw[name].get(item.id));
    });
}

test("relations point at objects that exist", () => {
    const has = (name, id) => assert.ok(raw[name].has(id), `${name} ${id} exists`);
    const [company] = raw.companies.keys();
    for (const e of raw.employees.values()) {
        assert.equal(e.company, company);
        e.groups.forEach((id) => has("groups", id));
        e.employments.forEach((id) => has("employments", id));
        assert.ok(e.employments.length >= 1, "every employee has an employment");
        for (const field of ["home_location", "work_location"])
            if (e[field] !== null) has("locations", e[field]);
        if (e.manager !== null) has("employees", e.manager);
        if (e.team !== null) has("teams", e.team);
    }
    for (const job of raw.employments.values()) {
        has("employees", job.employee);
        assert.ok(raw.employees.get(job.employee).employments.includes(job.id));
    }
    for (const team of raw.teams.values()) if (team.parent_team !== null) has("teams", team.parent_team);
});

test("the example company's contents", () => {
    const employees = [...raw.employees.values()];
    const count = (status) => employees.filter((e) => e.employment_status === status).length;
    for (const status of Object.keys(EXPECTED_STATUS))
        assert.equal(count(status), EXPECTED_STATUS[status], status);
    for (const e of employees)
        assert.equal(e.termination_date !== null, e.employment_status === "INACTIVE",
                     `${e.remote_id}: termination_date set exactly for leavers`);
    assert.equal(employees.filter((e) => e.manager === null).length, 1, "one person has no manager");
    const types = [...raw.groups.values()].map((g) => g.type);
    assert.equal(types.filter((t) => t === "DEPARTMENT").length, 8);
    assert.equal(types.filter((t) => t === "COST_CENTER").length, 3);
});

test("retrieve equals the listed object, for every model", async () => {
    for (const name of Object.keys(MODELS)) {
        const [id, listed] = [...raw[name].entries()][Math.floor(raw[name].size / 2)];
        const got = await hris[name].retrieve(id);
        checkSdkObject(name, got, listed);
        assert.deepEqual(await rawGet(`${name}/${id}`), listed, `${name}: raw retrieve`);
    }
});

// Retrieve with expand: each relation alone, then all together (the SDK sends an array as
// repeated `expand=` keys), then the comma-separated form Merge's docs show (raw HTTP).
const EXPANDS = {
    employees: ["company", "employments", "groups", "home_location", "manager", "pay_group",
                "team", "work_location"],
    employments: ["employee", "pay_group"],
    teams: ["parent_team"],
};
const relationType = (name, field) => MODELS[name].fields.find(([f]) => f === field)[1];

/* Checks that in `got` (SDK or raw) the relations in `expanded` are objects, others ids. */
function checkExpanded(name, base, got, expanded, viaSdk) {
    const schema = sdkSchema(name);
    for (const field of EXPANDS[name]) {
        const type = relationType(name, field);
        const target = type.split(":")[1];
        const key = viaSdk ? parsedName(schema, field) : field;
        const original = base[field];
        const value = got[key];
        const at = `${name} ${base.id}.${field} (${viaSdk ? "SDK" : "raw"}, expand=${expanded})`;
        if (original === null) {
            assert.equal(value, viaSdk ? undefined : null, `${at}: unset stays unset`);
            continue;
        }
        const ids = type.startsWith("refs:") ? original : [original];
        const values = type.startsWith("refs:") ? value : [value];
        assert.equal(values.length, ids.length, at);
        ids.forEach((id, k) => {
            if (!expanded.includes(field)) {
                assert.equal(values[k], id, `${at}: not expanded`);
                return;
            }
            assert.ok(isObject(values[k]), `${at}: expanded to an object`);
            assert.equal(values[k].id, id, `${at}: the related id`);
            if (!MODELS[target]) return;
            const related = raw[target].get(id);
            if (viaSdk) checkSdkObject(target, values[k], related);
            else assert.deepEqual(values[k], related, `${at}: the related object`);
        });
    }
}

/* Objects of `name` worth expanding: the one with the most relations set and the one with the
   fewest (e.g. the CEO, who has no manager; a top-level team). */
function expandSubjects(name) {
    const setCount = (o) => EXPANDS[name].filter((f) => o[f] !== null &&
                                                 !(Array.isArray(o[f]) && !o[f].length)).length;
    const all = [...raw[name].values()].sort((a, b) => setCount(b) - setCount(a));
    const most = all[0];
    const fewest = all[all.length - 1];
    return setCount(most) === setCount(fewest) ? [most] : [most, fewest];
}

for (const name of Object.keys(EXPANDS)) {
    test(`${name}: retrieve with expand, one relation at a time and all together`, async () => {
        const subjects = expandSubjects(name);
        assert.ok(subjects.length >= 1, "an object with relations set");
        for (const base of subjects) {
            for (const field of EXPANDS[name]) {
                const got = await hris[name].retrieve(base.id, { expand: field });
                checkExpanded(name, base, got, [field], true);
                checkExpanded(name, base, await rawGet(`${name}/${base.id}?expand=${field}`),
                              [field], false);
            }
            const all = EXPANDS[name];
            checkExpanded(name, base, await hris[name].retrieve(base.id, { expand: all }), all, true);
            checkExpanded(name, base, await rawGet(`${name}/${base.id}?expand=${all.join(",")}`),
                          all, false);
            checkExpanded(name, base,
                          await rawGet(`${name}/${base.id}?${all.map((f) => `expand=${f}`).join("&")}`),
                          all, false);
        }
    });
}

test("employees: the CEO has no manager; an expanded manager is an Employee", async () => {
    const ceo = [...raw.employees.values()].find((e) => e.manager === null);
    assert.equal(ceo.remote_id, "E1000");
    const got = await hris.employees.retrieve(ceo.id, { expand: "manager" });
    assert.equal(got.manager, undefined);
    const report = [...raw.employees.values()].find((e) => e.manager === ceo.id);
    const withManager = await hris.employees.retrieve(report.id, { expand: ["manager", "team"] });
    assert.equal(withManager.manager.firstName, ceo.first_name);
    assert.equal(withManager.team.name, raw.teams.get(report.team).name);
});

test("employees: list with expand expands every result", async () => {
    const page = await hris.employees.list({ pageSize: 37, expand: ["team", "work_location"] });
    assert.equal(page.data.length, 37);
    for (const e of page.data) {
        const base = raw.employees.get(e.id);
        checkExpanded("employees", base, e, ["team", "work_location"], true);
    }
});

test("employees: include_remote_data returns RemoteData objects", async () => {
    const [id] = raw.employees.keys();
    const got = await hris.employees.retrieve(id, { includeRemoteData: true });
    assert.ok(Array.isArray(got.remoteData) && got.remoteData.length > 0, "remoteData");
    for (const item of got.remoteData) assert.equal(typeof item.path, "string");
});

test("teams: top-level teams have no parent_team", () => {
    const teams = [...raw.teams.values()];
    assert.equal(teams.filter((t) => t.parent_team === null).length, Math.min(8, EXPECTED.teams));
});

test("groups.typesList", async () => {
    const got = await hris.groups.typesList();
    assert.deepEqual([...got.types].sort(), ["COST_CENTER", "DEPARTMENT"]);
    assert.deepEqual(Object.keys(await rawGet("groups/types")), ["types"]);
});

let accountId = null;

test("accountDetails.retrieve", async () => {
    const got = await hris.accountDetails.retrieve();
    assert.match(got.id, UUID);
    accountId = got.id;
    assert.equal(got.integration, "BambooHR");
    assert.equal(got.integrationSlug, "bamboohr");
    assert.equal(got.category, "hris");
    assert.equal(got.status, "COMPLETE");
    assert.equal(got.endUserOriginId, "conformance-main");
    assert.equal(got.endUserOrganizationName, "Acme (conformance-main)");
    assert.equal(got.accountType, "PRODUCTION");
    assert.ok(got.completedAt instanceof Date, "completedAt");
    const body = await rawGet("account-details");
    assert.deepEqual(new Set(Object.keys(body)), new Set(ACCOUNT_DETAILS_FIELDS), "fields");
});

test("account-details: fields in Merge's order", async () => {
    assert.deepEqual(Object.keys(await rawGet("account-details")), ACCOUNT_DETAILS_FIELDS);
});

test("linkedAccounts.list", async () => {
    const mine = [];
    for await (const account of await hris.linkedAccounts.list()) mine.push(account);
    assert.equal(mine.length, 1);
    assert.equal(mine[0].id, accountId);
    assert.equal(mine[0].status, "COMPLETE");
    assert.equal(mine[0].endUserOriginId, "conformance-main");
    assert.equal(mine[0].integration.slug, "bamboohr");
    assert.deepEqual(mine[0].integration.categories, ["hris"]);
    assert.ok(mine[0].completedAt instanceof Date, "completedAt");
    const body = await rawGet("linked-accounts", { accountToken: null });
    assert.deepEqual(Object.keys(body), ENVELOPE);
    assert.deepEqual(Object.keys(body.results[0]), LINKED_ACCOUNT_FIELDS);
    assert.deepEqual(Object.keys(body.results[0].integration), LINKED_ACCOUNT_INTEGRATION_FIELDS);
    assert.ok(ENUMS.AccountStatus.includes(body.results[0].status));
});

/* Raw HTTP here, so that a schema warning from the SDK does not hide the isolation result. */
test("linked-accounts: an organization sees its own accounts only", async () => {
    const ids = async (query, apiKey = API_KEY) =>
        (await rawGet(`linked-accounts${query}`, { apiKey, accountToken: null })).results
            .map((a) => a.id);
    assert.deepEqual(await ids(""), [accountId]);
    assert.deepEqual(await ids("?end_user_origin_id=conformance-main&status=COMPLETE"),
                     [accountId]);
    assert.deepEqual(await ids("?end_user_origin_id=conformance-other"), [],
                     "another organization's account is invisible");
    const theirs = await rawGet("linked-accounts", { apiKey: OTHER_API_KEY, accountToken: null });
    assert.equal(theirs.results.length, 1);
    assert.notEqual(theirs.results[0].id, accountId);
    assert.equal(theirs.results[0].end_user_origin_id, "conformance-other");
});

async function countAll(listCall) {
    const items = [];
    for await (const item of await listCall) items.push(item);
    return items;
}

test("filter: modifiedAfter", async () => {
    const minuteAgo = new Date(Date.now() - 60_000);
    const recent = await countAll(hris.employees.list({ modifiedAfter: minuteAgo, pageSize: 100 }));
    assert.equal(recent.length, N, "everything was written in the last minute");
    const future = new Date(Date.now() + 3_600_000);
    const page = await hris.employees.list({ modifiedAfter: future, pageSize: 100 });
    assert.equal(page.data.length, 0);
    assert.equal(page.hasNextPage(), false);
    const groups = await countAll(hris.groups.list({ modifiedAfter: minuteAgo }));
    assert.equal(groups.length, EXPECTED.groups);
    assert.equal((await hris.teams.list({ modifiedAfter: future })).data.length, 0);
    const before = await hris.employees.list({ modifiedBefore: minuteAgo });
    assert.equal(before.data.length, 0, "modifiedBefore a minute ago: nothing");
});

test("filter: employmentStatus", async () => {
    for (const status of ["INACTIVE", "ACTIVE", "PENDING"]) {
        const items = await countAll(hris.employees.list({ employmentStatus: status, pageSize: 50 }));
        assert.equal(items.length, EXPECTED_STATUS[status], status);
        for (const e of items) assert.equal(e.employmentStatus, status);
        if (status === "INACTIVE")
            for (const e of items) assert.ok(e.terminationDate instanceof Date);
    }
});

test("filter: groups by type, teams by parent, employees by team", async () => {
    const departments = await countAll(hris.groups.list({ types: "DEPARTMENT" }));
    assert.equal(departments.length, 8);
    const parent = [...raw.teams.values()].find((t) =>
        [...raw.teams.values()].some((c) => c.parent_team === t.id));
    const children = await countAll(hris.teams.list({ parentTeamId: parent.id }));
    assert.equal(children.length,
                 [...raw.teams.values()].filter((t) => t.parent_team === parent.id).length);
    const team = [...raw.employees.values()][0].team;
    const members = await countAll(hris.employees.list({ teamId: team, pageSize: 100 }));
    assert.equal(members.length, [...raw.employees.values()].filter((e) => e.team === team).length);
    for (const e of members) assert.equal(e.team, team);
});

test("cursors: previous leads back to the page before", async () => {
    const first = await rawGet("employees?page_size=37");
    const second = await rawGet(`employees?page_size=37&cursor=${encodeURIComponent(first.next)}`);
    assert.notEqual(second.previous, null);
    const back = await rawGet(`employees?page_size=37&cursor=${encodeURIComponent(second.previous)}`);
    assert.deepEqual(back.results.map((e) => e.id), first.results.map((e) => e.id));
});

async function expectMergeError(promise, statusCode, what) {
    try {
        await promise;
    } catch (e) {
        assert.ok(e instanceof MergeError, `${what}: a MergeError (got ${e})`);
        assert.equal(e.statusCode, statusCode, `${what}: status code`);
        return e;
    }
    assert.fail(`${what}: no error`);
}

test("isolation: keys and account tokens of different organizations do not mix", async () => {
    await expectMergeError(client(OTHER_API_KEY, ACCOUNT_TOKEN).hris.employees.list(), 401,
                           "their key, our token");
    await expectMergeError(client(API_KEY, OTHER_ACCOUNT_TOKEN).hris.employees.list(), 401,
                           "our key, their token");
    const [ourId] = raw.employees.keys();
    await expectMergeError(client(OTHER_API_KEY, ACCOUNT_TOKEN).hris.employees.retrieve(ourId),
                           401, "their key, our token, retrieve");
    await expectMergeError(client(OTHER_API_KEY, OTHER_ACCOUNT_TOKEN).hris.employees.retrieve(ourId),
                           404, "their key and token, our employee's id");
    await expectMergeError(client(`${API_KEY}x`, ACCOUNT_TOKEN).hris.companies.list(), 401,
                           "a wrong API key");
    await expectMergeError(client(API_KEY).hris.employees.list(), 401, "no account token");
    const theirs = await countAll(client(OTHER_API_KEY, OTHER_ACCOUNT_TOKEN)
        .hris.employees.list({ pageSize: 100 }));
    assert.equal(theirs.length, OTHER_N, "the other organization sees its own company");
    for (const e of theirs) assert.ok(!raw.employees.has(e.id), "and none of ours");
});

test("errors: unknown id is 404, a bad cursor 400, both MergeError", async () => {
    await expectMergeError(hris.employees.retrieve("00000000-0000-4000-8000-000000000000"), 404,
                           "unknown employee");
    await expectMergeError(hris.employees.list({ cursor: "not-a-cursor" }), 400, "bad cursor");
    await expectMergeError(hris.employees.list({ pageSize: 101 }), 400, "page_size over 100");
});

test("link: linkToken.create and accountToken.retrieve shapes", async () => {
    const link = await hris.linkToken.create({
        endUserEmailAddress: "hr@acme.example",
        endUserOrganizationName: "Acme (conformance)",
        endUserOriginId: "conformance-link",
        categories: ["hris"],
        integration: "bamboohr",
        shouldCreateMagicLinkUrl: true,
        linkExpiryMins: 60,
    });
    assert.match(link.linkToken, /^lt_[A-Za-z0-9_-]{43}$/);
    assert.equal(link.integrationName, "BambooHR");
    assert.equal(link.magicLinkUrl, `${ROSTER_URL}/link/${link.linkToken}`);
    const plain = await hris.linkToken.create({
        endUserEmailAddress: "hr@acme.example",
        endUserOrganizationName: "Acme (conformance)",
        endUserOriginId: "conformance-link-2",
        categories: ["hris", "ats"],
    });
    assert.ok(plain.magicLinkUrl == null, "no magic link unless asked"); // the SDK reads null as undefined
    await expectMergeError(hris.accountToken.retrieve(`pt_${"A".repeat(43)}`), 404,
                           "an unknown public token");
    await expectMergeError(hris.linkToken.create({
        endUserEmailAddress: "a@b", endUserOrganizationName: "A", endUserOriginId: "x",
        categories: ["ats"] }), 400, "categories without hris");
});

process.exitCode = await runAll();
