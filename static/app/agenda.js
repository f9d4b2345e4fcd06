// Print buttons on agenda pages (no inline script: the site's CSP forbids it).
document.querySelectorAll("[data-action='print']").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
