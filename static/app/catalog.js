// The product form: rates only for products that charge interest, the stage only for equity.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("product-form");
  const kind = form && form.querySelector("select[name=kind]");
  if (!kind) return;
  const toggle = () => {
    const equity = kind.value === "equity";
    form.querySelectorAll(".rate-field").forEach((el) => { el.hidden = equity; });
    form.querySelectorAll(".equity-field").forEach((el) => { el.hidden = !equity; });
  };
  kind.addEventListener("change", toggle);
  toggle();
});
