// The magic-link flow for Factorial by OAuth in headless Chromium, as an HR admin does it: an
// app page opens the magic link in a popup; the picker; Factorial's sign-in page; the sandbox's
// consent page (what it shows is checked); Deny first (the "declined" page, then "Try again"),
// then Approve; the success page hands the public token to the opener by postMessage; the app
// exchanges it and the first sync stores the sandbox's employees. Screenshots of each step go to
// ROSTER_SCREENSHOT_DIR (run.sh: the build tree; docs/img to refresh the docs). Any console
// error or warning on Roster's pages, or a request to an origin other than Roster's and the
// sandbox's authorization server, fails the test.
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
const CLIENT_ID = "acme-engage";
const AUTHORIZE = `${SANDBOX}/factorial/oauth/authorize`;

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

// Fails on a console error or warning or a page error on Roster's pages (the sandbox's consent
// page is the provider's, not ours), and on any request that is neither Roster's nor the
// sandbox's authorization server (the one place Roster's pages send the admin).
function watch(page, problems) {
    const ours = (url) => url.startsWith(ROSTER + "/");
    page.on("console", (msg) => {
        const where = msg.location().url || page.url();
        if ((msg.type() === "error" || msg.type() === "warning") && ours(where))
            problems.push(`console ${msg.type()}: ${msg.text()} (${where})`);
    });
    page.on("pageerror", (err) => {
        if (ours(page.url())) problems.push(`page error: ${err.message}`);
    });
    page.on("request", (req) => {
        if (!ours(req.url()) && !req.url().startsWith(AUTHORIZE + "?"))
            problems.push(`request to another origin: ${req.url()}`);
    });
}

async function shot(page, name) {
    await page.screenshot({ path: join(SHOTS, `connect-oauth-${name}.png`), fullPage: true });
}

// From Factorial's sign-in page to the sandbox's consent page, which is checked.
async function toConsent(popup) {
    await popup.getByRole("heading", { name: "Connect Factorial" }).waitFor();
    await Promise.all([
        popup.waitForURL((url) => url.href.startsWith(AUTHORIZE + "?")),
        popup.getByRole("button", { name: "Continue to Factorial" }).click(),
    ]);
    const params = new URL(popup.url()).searchParams;
    assert.equal(params.get("client_id"), CLIENT_ID);
    assert.equal(params.get("redirect_uri"), `${ROSTER}/link/oauth/callback`);
    assert.equal(params.get("code_challenge_method"), "S256");
    assert.match(params.get("code_challenge"), /^[A-Za-z0-9_-]{43}$/);
    assert.match(params.get("state"), /^[A-Za-z0-9_-]{43}$/);
    // what the admin is asked to approve: the app, what it may use, where they go next
    await popup.getByRole("heading", { name: "Factorial sandbox" }).waitFor();
    assert.equal(await popup.locator("#client").textContent(), CLIENT_ID);
    assert.deepEqual(await popup.locator("#scopes li").allTextContents(), ["read"]);
    assert.equal(await popup.locator("#redirect").textContent(), `${ROSTER}/link/oauth/callback`);
    assert.equal(await popup.getByRole("button", { name: "Approve" }).count(), 1);
    assert.equal(await popup.getByRole("button", { name: "Deny" }).count(), 1);
}

async function main() {
    mkdirSync(SHOTS, { recursive: true });
    const opener = await startOpener();
    const openerOrigin = `http://127.0.0.1:${opener.address().port}`;
    await api("PATCH", "/api/admin/v1/link-settings", { opener_origin: openerOrigin });
    await api("PUT", "/api/admin/v1/oauth-clients/factorial",
              { client_id: CLIENT_ID, client_secret: "sandbox" }, 201);
    const link = await api("POST", "/api/hris/v1/link-token", {
        end_user_email_address: "hr@acme.example",
        end_user_organization_name: "Acme GmbH",
        end_user_origin_id: "acme-browser-oauth",
        categories: ["hris"],
        should_create_magic_link_url: true,
        base_url: `${SANDBOX}/factorial`,
    });

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

        // 1. the picker: Factorial connects by signing in
        await popup.getByRole("heading", { name: "Connect your HR system" }).waitFor();
        await popup.getByLabel("Search").fill("fact");
        await popup.waitForFunction(() =>
            document.getElementById("provider-count").textContent === "1 system matches");
        const item = popup.getByRole("link", { name: /Factorial/ });
        assert.match(await item.textContent(), /Sign-in$/);
        await shot(popup, "1-picker");
        await item.click();

        // 2. Factorial's sign-in page: what happens next, one button
        await popup.getByRole("heading", { name: "Connect Factorial" }).waitFor();
        assert.match(await popup.locator(".lead").textContent(),
                     /You will sign in to Factorial and approve read access for Acme Engage\./);
        await shot(popup, "2-start");

        // 3. the provider's consent page; the admin declines first
        await toConsent(popup);
        await shot(popup, "3-consent");
        await Promise.all([popup.waitForURL((url) => url.href.startsWith(ROSTER + "/")),
                           popup.getByRole("button", { name: "Deny" }).click()]);
        await popup.getByRole("heading", { name: "Access to Factorial was declined" }).waitFor();
        assert.equal(await popup.getByRole("link", { name: "All HR systems" }).count(), 1);
        await shot(popup, "4-declined");
        await popup.getByRole("link", { name: "Try again" }).click();

        // 4. again, and Approve: back at Roster, connected, the token posted to the opener
        await toConsent(popup);
        await Promise.all([popup.waitForURL((url) => url.href.startsWith(ROSTER + "/")),
                           popup.getByRole("button", { name: "Approve" }).click()]);
        await popup.getByRole("heading", { name: "Factorial is connected" }).waitFor();
        await shot(popup, "5-connected");
        const posted = await until("the public token at the opener", async () =>
            (await app.locator("#result").textContent()) || null);
        const [origin, publicToken] = posted.split(" ");
        assert.equal(origin, ROSTER);
        assert.match(publicToken, /^pt_[A-Za-z0-9_-]{43}$/);

        // 5. the app exchanges it, once, and the first sync stores the employees
        const exchanged = await api("GET", `/api/hris/v1/account-token/${publicToken}`);
        assert.equal(exchanged.integration.slug, "factorial");
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
