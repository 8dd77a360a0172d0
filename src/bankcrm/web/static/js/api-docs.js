// Starts Swagger UI from local assets (no CDN, and no inline script, so the CSP stays strict).
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: root.getAttribute("data-spec-url"), dom_id: "#swagger-ui", deepLinking: true });
});
