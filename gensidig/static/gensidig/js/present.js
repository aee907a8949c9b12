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
    if (event.target.closest("input, select, textarea, button")) {
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
});
