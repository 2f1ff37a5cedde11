// The magic-link flow for BambooHR by API key in headless Chromium, as an HR admin does it:
// an app page opens the magic link in a popup; picker search; the form with a wrong key (the
// error sentence); the right key; the success page hands the public token to the opener by
// postMessage; the app exchanges it and the first sync stores the sandbox's employees.
// Screenshots of each step go to ROSTER_SCREENSHOT_DIR (run.sh: the build tree; docs/img to refresh the docs). Any console error or
// warning on Roster's pages, or a request to another origin, fails the test.
import assert from "node:assert/strict";
import { ROSTER, createLink, expectConnected, openLink, run, screenshots } from "./lib.mjs";

const shot = screenshots("connect-");

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

run(async (session) => {
    const link = await createLink("acme-browser", "bamboohr");
    assert.ok(link.magic_link_url.startsWith(`${ROSTER}/link/lt_`), link.magic_link_url);
    const { context, app, popup } = await openLink(session, link);

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

    // 5. the token reached the app, which exchanges it, once; the first sync stores the
    // employees
    await expectConnected(app, "bamboohr");

    // 6. the link worked once: opening it again says so
    await popup.goto(link.magic_link_url);
    await popup.getByRole("heading", { name: "This link was already used" }).waitFor();
    await shot(popup, "6-used");
    await context.close();
});
