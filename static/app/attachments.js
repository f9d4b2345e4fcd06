// Upload forms of attachments: refuse a file over the size limit before sending it (the server checks again).
(() => {
  const MB = 1024 * 1024;
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach((input) => {
    const limit = Number(input.dataset.maxBytes);
    let feedback = input.parentElement.querySelector(".invalid-feedback");
    if (!feedback) {
      feedback = document.createElement("div");
      feedback.className = "invalid-feedback";
      input.after(feedback);
    }
    input.addEventListener("change", () => {
      const file = input.files[0];
      const message = file && file.size > limit
        ? `文件“${file.name}”超过 ${Math.round(limit / MB)} MB 的上限，请压缩或拆分后再上传` : "";
      input.setCustomValidity(message);
      input.classList.toggle("is-invalid", Boolean(message));
      if (message) {
        feedback.textContent = message;
        feedback.classList.add("d-block");
      } else {
        feedback.classList.remove("d-block");
      }
    });
    input.form.addEventListener("submit", (ev) => {
      if (!input.checkValidity()) ev.preventDefault();
    });
  });
})();
