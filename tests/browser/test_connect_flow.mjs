// The magic-link flow for BambooHR by API key in headless Chromium, as an HR admin does it:
// an app page opens the magic link in a popup; picker search; the form with a wrong key (the
// error sentence); the right key; the success page hands the public token to the opener by
// postMessage; the app exchanges it and the first sync stores the sandbox's employees.
// Screenshots of each step go to ROSTER_SCREENSHOT_DIR (run.sh: the build tree; docs/img to refresh the docs). Any console error or
// warning on Roster's pages, or a request to another origin, fails the test.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { chromium } from "playwright-core";

const env = (name) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set (run through run.sh)`);
    return value;
};
const ROSTER = env("ROSTER_URL");
const KEY = env("ROSTER_API_KEY");
const SANDBOX = env("ROSTER_SANDBOX_URL");
const EMPLOYEES = Number(env("ROSTER_SANDBOX_EMPLOYEES"));
const SHOTS = env("ROSTER_SCREENSHOT_DIR");
const DEADLINE_MS = 60000;

async function api(method, path, body, status = 200) {
    const res = await fetch(ROSTER + path, {
        method,
        headers: { Authorization: `Bearer ${KEY}`, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.equal(res.status, status, `${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
}

async function until(what, check) {
    const deadline = Date.now() + DEADLINE_MS;
    for (;;) {
        const value = await check();
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

// The app's page: opens the magic link and shows what the link posts back.
const OPENER_HTML = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>App</title>
<link rel="icon" href="data:,"></head><body>
<button id="open">Connect your HR system</button><pre id="result"></pre>
<script>
const link = new URLSearchParams(location.search).get("link");
document.getElementById("open").onclick = () => window.open(link, "roster", "width=480,height=760");
window.addEventListener("message", (event) => {
  if (event.data && event.data.type === "roster-link-success")
    document.getElementById("result").textContent = event.origin + " " + event.data.public_token;
});
</script></body></html>`;

function startOpener() {
    const server = createServer((req, res) => {
        res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
        res.end(OPENER_HTML);
    });
    return new Promise((resolve) =>
        server.listen(0, "127.0.0.1", () => resolve(server)));
}

// Fails on any console error or warning, page error, or request leaving rosterd's origin.
function watch(page, problems) {
    page.on("console", (msg) => {
        if (msg.type() === "error" || msg.type() === "warning")
            problems.push(`console ${msg.type()}: ${msg.text()} (${page.url()})`);
    });
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    page.on("request", (req) => {
        if (!req.url().startsWith(ROSTER + "/"))
            problems.push(`request to another origin: ${req.url()}`);
    });
}

async function shot(page, name) {
    await page.screenshot({ path: join(SHOTS, `connect-${name}.png`), fullPage: true });
}

// Tab order from the top of the page: the ids (or tag names) focused, in order.
async function tabOrder(page, count) {
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    const order = [];
    for (let i = 0; i < count; i++) {
        await page.keyboard.press("Tab");
        order.push(await page.evaluate(() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            return { id: el.id || el.tagName.toLowerCase(), text: el.textContent.trim(),
                     outline: style.outlineStyle !== "none" && style.outlineWidth !== "0px" };
        }));
    }
    return order;
}

async function main() {
    mkdirSync(SHOTS, { recursive: true });
    const opener = await startOpener();
    const openerOrigin = `http://127.0.0.1:${opener.address().port}`;
    await api("PATCH", "/api/admin/v1/link-settings", { opener_origin: openerOrigin });
    const link = await api("POST", "/api/hris/v1/link-token", {
        end_user_email_address: "hr@acme.example",
        end_user_organization_name: "Acme GmbH",
        end_user_origin_id: "acme-browser",
        categories: ["hris"],
        should_create_magic_link_url: true,
        base_url: `${SANDBOX}/bamboohr`,
    });
    assert.ok(link.magic_link_url.startsWith(`${ROSTER}/link/lt_`), link.magic_link_url);

    const browser = await chromium.launch({
        executablePath: env("ROSTER_CHROMIUM"),
        headless: true,
        args: ["--no-sandbox"],
    });
    const problems = [];
    try {
        const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
        const app = await context.newPage();
        await app.goto(`${openerOrigin}/?link=${encodeURIComponent(link.magic_link_url)}`);
        const [popup] = await Promise.all([context.waitForEvent("page"), app.click("#open")]);
        watch(popup, problems);
        await popup.setViewportSize({ width: 520, height: 820 });
        await popup.waitForLoadState("load");

        // 1. the picker, filtered as the admin types
        await popup.getByRole("heading", { name: "Connect your HR system" }).waitFor();
        assert.equal(await popup.locator("#search-submit").isHidden(), true);
        await shot(popup, "1-picker");
        await popup.getByLabel("Search").fill("bamb");
        await popup.waitForFunction(() =>
            document.getElementById("provider-count").textContent === "1 system matches");
        assert.equal(await popup.locator("#providers li:visible").count(), 1);
        assert.equal(await popup.locator("#providers li", { hasText: "Personio" }).isHidden(), true);
        await shot(popup, "2-search");
        await popup.getByRole("link", { name: /BambooHR/ }).click();

        // 2. the form: labels, keyboard order (back, the two ways to connect, the fields,
        // Connect), visible focus
        await popup.getByRole("heading", { name: "Connect BambooHR" }).waitFor();
        const inputs = await popup.evaluate(() =>
            [...document.querySelectorAll("input:not([type=hidden])")].map((i) => i.labels.length));
        assert.deepEqual(inputs, [1, 1]);
        const ways = popup.getByRole("navigation", { name: "How to connect BambooHR" });
        assert.equal(await ways.getByRole("link", { name: "Use an API key" }).getAttribute(
            "aria-current"), "page");
        const order = await tabOrder(popup, 6);
        assert.deepEqual(order.map((o) => o.text),
                         ["All HR systems", "Sign in with BambooHR", "Use an API key",
                          "", "", "Connect BambooHR"]);
        assert.deepEqual(order.map((o) => o.id),
                         ["a", "a", "a", "f-subdomain", "f-api_key", "button"]);
        assert.ok(order.every((o) => o.outline), `focus not visible: ${JSON.stringify(order)}`);
        await shot(popup, "3-form");

        // 3. a wrong key: the provider's answer as a sentence, announced, the subdomain kept
        await popup.getByLabel("Company subdomain").fill("acme");
        await popup.getByLabel("API key").fill("wrong-key-123");
        await Promise.all([popup.waitForNavigation(), popup.getByLabel("API key").press("Enter")]);
        const error = popup.getByRole("alert");
        await error.waitFor();
        assert.match(await error.textContent(), /BambooHR did not accept the API key\./);
        assert.equal(await popup.getByLabel("Company subdomain").inputValue(), "acme");
        assert.equal(await popup.getByLabel("API key").inputValue(), "");
        await shot(popup, "4-wrong-key");
        await popup.setViewportSize({ width: 375, height: 812 });
        const overflow = await popup.evaluate(() =>
            document.documentElement.scrollWidth > document.documentElement.clientWidth);
        assert.equal(overflow, false, "the page scrolls sideways at 375 px");
        await shot(popup, "4-wrong-key-375");
        await popup.setViewportSize({ width: 520, height: 820 });

        // 4. the right key: connected, the public token posted to the opener
        await popup.getByLabel("API key").fill("sandbox");
        await Promise.all([popup.waitForNavigation(),
                           popup.getByRole("button", { name: "Connect BambooHR" }).click()]);
        await popup.getByRole("heading", { name: "BambooHR is connected" }).waitFor();
        await shot(popup, "5-connected");
        const posted = await until("the public token at the opener", async () =>
            (await app.locator("#result").textContent()) || null);
        const [origin, publicToken] = posted.split(" ");
        assert.equal(origin, ROSTER);
        assert.match(publicToken, /^pt_[A-Za-z0-9_-]{43}$/);

        // 5. the app exchanges it, once, and the first sync stores the employees
        const exchanged = await api("GET", `/api/hris/v1/account-token/${publicToken}`);
        assert.equal(exchanged.integration.slug, "bamboohr");
        await api("GET", `/api/hris/v1/account-token/${publicToken}`, undefined, 404);
        const sync = await until("the first sync", async () => {
            const history = await api("GET", `/api/admin/v1/linked-accounts/${exchanged.id}/syncs`);
            const newest = history.results[0];
            return newest && !["QUEUED", "SYNCING"].includes(newest.status) ? newest : null;
        });
        assert.equal(sync.status, "DONE", JSON.stringify(sync));
        const res = await fetch(`${ROSTER}/api/hris/v1/employees?page_size=100`, {
            headers: { Authorization: `Bearer ${KEY}`, "X-Account-Token": exchanged.account_token },
        });
        const page = await res.json();
        assert.equal(page.results.length, EMPLOYEES);

        // 6. the link worked once: opening it again says so
        await popup.goto(link.magic_link_url);
        await popup.getByRole("heading", { name: "This link was already used" }).waitFor();
        await shot(popup, "6-used");
        await context.close();
    } finally {
        await browser.close();
        opener.close();
    }
    assert.deepEqual(problems, [], problems.join("\n"));
    console.log("1 passed, 0 failed");
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
