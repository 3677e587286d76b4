// Starts Swagger UI on /openapi.json. A file of its own, not an inline script: the page's CSP allows
// scripts from this origin only.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  showExtensions: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
