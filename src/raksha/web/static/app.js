// Raksha console: the few progressive enhancements the pages use (no inline script: the
// Content-Security-Policy allows script from /static only). Every page works without it.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : null;
  }

  // htmx requests that change something carry the session's CSRF token as a header.
  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token && event.detail.verb !== "get") {
      event.detail.headers["X-CSRF-Token"] = token;
    }
  });

  // A poll (a progress box, the operations board) whose session has ended is sent to the
  // login page: go there, and back here after logging in, rather than swap it in.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.responseURL && new URL(xhr.responseURL).pathname === "/login") {
      event.detail.shouldSwap = false;
      window.location.assign(
        "/login?next=" + encodeURIComponent(window.location.pathname + window.location.search)
      );
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) {
      return;
    }
    // <form data-confirm="Disable priya.s?">: ask before sending.
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    // <form data-busy="Uploading…">: one submit only, and say that it is on its way.
    var busy = form.getAttribute("data-busy");
    if (busy) {
      var button = form.querySelector('button[type="submit"]');
      if (button) {
        button.disabled = true;
        button.textContent = busy;
      }
    }
  });
})();
