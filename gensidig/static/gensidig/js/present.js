// Meeting mode: arrow keys, Page Up/Down and space move between steps; the links do the same
// without JavaScript. A full-screen button appears where the browser allows it.
document.addEventListener("DOMContentLoaded", () => {
  const go = (id) => {
    const link = document.getElementById(id);
    if (link) {
      window.location.href = link.href;
    }
  };
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, select, textarea, button, summary")) {
      return;
    }
    if (["ArrowRight", "PageDown", " "].includes(event.key)) {
      event.preventDefault();
      go("gs-next");
    } else if (["ArrowLeft", "PageUp"].includes(event.key)) {
      event.preventDefault();
      go("gs-prev");
    }
  });
  const fullscreen = document.getElementById("gs-fullscreen");
  if (fullscreen && document.documentElement.requestFullscreen) {
    fullscreen.hidden = false;
    fullscreen.addEventListener("click", () => document.documentElement.requestFullscreen());
  }

  // The agreements step records an agreement in place (htmx), so full screen stays on. Afterwards
  // the keyboard focus goes where a reader needs it: to the error summary, or to the status line
  // that says the agreement is written down (its role="status" has a screen reader announce it).
  const status = document.getElementById("agreement-recorded");
  if (!status) {
    return;
  }
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    // Anything but the step's own fragment (a sign-in page after the session ran out, say) is
    // shown as a page of its own rather than pasted into the list.
    const answer = event.detail.serverResponse || "";
    if (event.detail.shouldSwap && !answer.includes('id="present-agreements"')) {
      event.detail.shouldSwap = false;
      window.location.assign(event.detail.xhr.responseURL || window.location.href);
    }
  });
  // The form is the only thing htmx drives on this page, so every settled swap is its answer.
  document.body.addEventListener("htmx:afterSettle", () => {
    const summary = document.getElementById("error-summary");
    (summary || status).focus();
  });
  const failed = () => {
    status.textContent = status.dataset.failed;
    status.focus();
  };
  document.body.addEventListener("htmx:responseError", failed);
  document.body.addEventListener("htmx:sendError", failed);
});
