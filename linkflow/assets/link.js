/* The hosted connect pages' behaviour; every page works without it (plain links and forms). */
(function () {
    "use strict";

    /* The picker: filter the list as the admin types (the search button is for no script). */
    function setUpPicker() {
        var search = document.getElementById("provider-search");
        var list = document.getElementById("providers");
        if (!search || !list) {
            return;
        }
        var items = list.querySelectorAll("li");
        var count = document.getElementById("provider-count");
        var none = document.getElementById("no-match");
        var button = document.getElementById("search-submit");
        if (button) {
            button.hidden = true;
        }
        function filter() {
            var query = search.value.trim().toLowerCase();
            var shown = 0;
            items.forEach(function (item) {
                var match = item.getAttribute("data-name").toLowerCase().indexOf(query) !== -1;
                item.hidden = !match;
                shown += match ? 1 : 0;
            });
            if (none) {
                none.hidden = shown !== 0;
            }
            if (count) {
                count.textContent = shown === 1 ? "1 system matches" : shown + " systems match";
            }
        }
        search.addEventListener("input", filter);
        search.form.addEventListener("submit", function (event) {
            event.preventDefault();
            filter();
        });
    }

    /* The credential form: say that the connection is being tested while the post runs (the
       sign-in form says that the provider is being opened: its data-status). */
    function setUpForm() {
        var form = document.getElementById("connect-form");
        if (!form) {
            return;
        }
        var error = document.getElementById("form-error");
        if (error && error.textContent.trim() !== "") {
            error.setAttribute("tabindex", "-1");
            error.focus();
        }
        form.addEventListener("submit", function () {
            var button = form.querySelector("button[type=submit]");
            var status = document.getElementById("form-status");
            if (status) {
                status.textContent = form.getAttribute("data-status") || "Testing the connection…";
            }
            window.setTimeout(function () {
                button.disabled = true;
            }, 0);
        });
    }

    /* The success page: hand the public token to the window that opened the link, then go on
       to the organization's return URL when it has one. */
    function finish() {
        var result = document.getElementById("roster-result");
        if (!result) {
            return;
        }
        var token = result.getAttribute("data-public-token");
        var origin = result.getAttribute("data-opener-origin");
        var next = result.getAttribute("data-return-url");
        if (origin && window.opener && !window.opener.closed) {
            window.opener.postMessage({ type: "roster-link-success", public_token: token }, origin);
        }
        if (next) {
            window.location.assign(next);
        }
    }

    setUpPicker();
    setUpForm();
    finish();
})();
