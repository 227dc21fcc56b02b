"""The docs page: Swagger UI over the project's OpenAPI document, from local files only (no network).

Every URL in the page is relative, so it works wherever the app is mounted (a proxy's prefix included) and
at `/docs` as at `/docs/`. With auth on, the document itself needs a bearer token: the page starts with a
prompt document whose only content is the bearer scheme, so Swagger UI's Authorize button asks for the
token; once given, the same token fetches the real document and signs every "Try it out" request
(`requestInterceptor`). A refused token brings the prompt back with the server's reason.
"""

from __future__ import annotations

import html
import json

ASSETS = ("swagger-ui.css", "favicon-32x32.png", "swagger-ui-bundle.js")
TOKEN_PROMPT = (
    "This server requires a bearer token. Click **Authorize** and enter a token "
    "(`sluice token issue`, a service token, or a JWT your application signs): the APIs are then listed here, "
    'and "Try it out" sends the same token.'
)

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title}</title>
  <link rel="stylesheet" href="{assets}swagger-ui.css">
  <link rel="icon" type="image/png" href="{assets}favicon-32x32.png">
  <style>body.needs-token .swagger-ui section.block > h3 {{ display: none; }}</style>
</head>
<body>
  <div id="swagger-ui"></div>
  <script id="docs-config" type="application/json">{config}</script>
  <script src="{assets}swagger-ui-bundle.js"></script>
  <script>
{script}
  </script>
</body>
</html>
"""

SCRIPT = """(function () {
  const config = JSON.parse(document.getElementById("docs-config").textContent);
  let token = null;

  function withToken(request) {  // Swagger UI's requestInterceptor, and the document's fetch
    if (token) request.headers.Authorization = "Bearer " + token;
    return request;
  }

  function promptDocument(message) {
    return {
      openapi: "3.0.3",
      info: {title: config.title, version: "1.0.0", description: message},
      paths: {},
      components: {securitySchemes: {bearerAuth: {type: "http", scheme: "bearer"}}},
      security: [{bearerAuth: []}],
    };
  }

  function showPrompt(system, message) {  // "No operations defined" is hidden: the prompt says why
    document.body.classList.add("needs-token");
    system.specActions.updateSpec(JSON.stringify(promptDocument(message)));
  }

  async function loadDocument(system) {
    const request = withToken({url: config.document, headers: {Accept: "application/json"}});
    let response;
    try {
      response = await fetch(request.url, {headers: request.headers, cache: "no-store"});
    } catch (error) {
      showPrompt(system, "The API document could not be fetched: " + error.message);
      return;
    }
    if (response.ok) {
      document.body.classList.remove("needs-token");
      system.specActions.updateSpec(await response.text());
      return;
    }
    let reason = response.status + " " + response.statusText;
    try {
      reason = (await response.json()).error || reason;
    } catch (error) {}
    system.authActions.logout(["bearerAuth"]);
    showPrompt(system, "The token was refused (" + reason + "). Click **Authorize** and enter a valid token.");
  }

  const bearerToken = () => ({
    statePlugins: {
      auth: {
        wrapActions: {
          authorize: (action, system) => (payload) => {
            const result = action(payload);
            const entry = payload && payload.bearerAuth;
            if (entry && entry.value) {
              token = entry.value;
              loadDocument(system);
            }
            return result;
          },
          logout: (action, system) => (names) => {
            const result = action(names);
            token = null;
            showPrompt(system, config.prompt);
            return result;
          },
        },
      },
    },
  });

  const options = {
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    requestInterceptor: withToken,
  };
  if (config.authRequired) {
    document.body.classList.add("needs-token");
    options.spec = promptDocument(config.prompt);
    options.plugins = [bearerToken];
  } else {
    options.url = config.document;
  }
  window.ui = SwaggerUIBundle(options);
})();"""


def docs_page(title: str, auth_required: bool, trailing_slash: bool) -> str:
    """The page for `/docs` (assets under `docs/`, the document beside it) or `/docs/` (one level down)."""
    config = {
        "title": title,
        "document": "../openapi" if trailing_slash else "openapi",
        "authRequired": auth_required,
        "prompt": TOKEN_PROMPT,
    }
    return PAGE.format(
        title=html.escape(title),
        assets="" if trailing_slash else "docs/",
        config=json.dumps(config).replace("<", "\\u003c"),  # no `</script>` can end the block early
        script=SCRIPT,
    )
