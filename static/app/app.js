// Small behaviours without inline script (the Content-Security-Policy forbids inline code).
document.addEventListener("DOMContentLoaded", () => {
  // Show enterprise-only fields on the registration form only for enterprises.
  const kind = document.getElementById("kind");
  if (kind) {
    const toggle = () => document.querySelectorAll(".enterprise-only").forEach(
      (el) => { el.hidden = kind.value !== "enterprise"; });
    kind.addEventListener("change", toggle);
    toggle();
  }
  // Buttons that carry a decision into a hidden field of their form.
  document.querySelectorAll("[data-decision]").forEach((btn) => btn.addEventListener("click", () => {
    btn.form.querySelector("input[name=decision]").value = btn.dataset.decision;
  }));
  // Search forms leave out empty fields, so a shared or bookmarked address holds only the real query.
  document.querySelectorAll("form[data-clean-query]").forEach((form) => form.addEventListener("submit", () => {
    form.querySelectorAll("input, select").forEach((el) => { if (el.name && !el.value) el.disabled = true; });
  }));
  // Confirm destructive actions.
  document.querySelectorAll("[data-confirm]").forEach((el) => el.addEventListener("click", (ev) => {
    if (!window.confirm(el.dataset.confirm)) ev.preventDefault();
  }));
});
