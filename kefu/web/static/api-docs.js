// Starts Swagger UI on /api/v1/docs (the bundle comes from kefu/web/static/vendor, see scripts/web-assets).
(function () {
  var el = document.getElementById("swagger-ui");
  if (!el || typeof window.SwaggerUIBundle !== "function") { return; }
  window.SwaggerUIBundle({ url: el.getAttribute("data-openapi"), dom_id: "#swagger-ui", deepLinking: true });
})();
