// htmx settings: show server refusals (4xx/5xx) in the flash area instead of dropping them.
document.addEventListener("DOMContentLoaded", function () {
  if (!window.htmx) { return; }
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "[45]..", swap: true, error: true },
  ];
});
