// Swagger UI for /api/v1/docs: a static file because the site's CSP forbids inline script.
(function () {
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: el.dataset.specUrl, dom_id: "#swagger-ui", deepLinking: true });
})();
