// Swagger UI on this project's OpenAPI document, as /docs/ serves it (docs/site/index.html).
// The document lists the local runner on port 3000 and the deployed API; the page puts the server it was loaded
// from first, so "Try it out" calls the API next to it (same origin: no CORS needed) on whatever port or host.
window.addEventListener("load", async () => {
  const answer = await fetch("openapi.json", { cache: "no-cache" });
  const spec = await answer.json();
  const here = window.location.origin;
  spec.servers = [
    { url: here, description: "this server (where this page was loaded from)" },
    ...(spec.servers || []).filter((server) => server.url !== here),
  ];
  // "Try it out" fills every parameter with its example. For the optional headers that would make a first PATCH
  // fail: the example If-Match names a version the product is not at (412), and a second request with the example
  // Idempotency-Key but another body is refused (422). So they start empty here; the example stays in the text.
  for (const item of Object.values(spec.paths || {})) {
    for (const operation of Object.values(item)) {
      for (const parameter of operation.parameters || []) {
        if (parameter.in === "header" && !parameter.required && "example" in parameter) {
          parameter.description += `\n\nExample: \`${parameter.example}\``;
          delete parameter.example;
        }
      }
    }
  }
  window.ui = SwaggerUIBundle({
    spec,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // Swagger UI would otherwise send the document to validator.swagger.io for a badge.
    validatorUrl: null,
    displayRequestDuration: true,
    showExtensions: true,
    // The key pasted under "Authorize" is kept for this tab only, never in storage.
    persistAuthorization: false,
  });
});
