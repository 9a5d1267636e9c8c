"""The OpenAPI 3.1 document of the products API (`docs/openapi.json`), generated from the code.

    python -m products_api_local.openapi            # print the document
    python -m products_api_local.openapi --write    # write docs/openapi.json
    python -m products_api_local.openapi --check    # exit 1, with a diff, when docs/openapi.json is stale

Nothing the code already knows is written twice here:

- the schemas are the pydantic models' own JSON schemas (`ProductPatch` in validation mode, `ProductResponse`,
  `HistoryResponse` and `ErrorResponse` in serialization mode, by alias), gathered with `models_json_schema` into
  `components/schemas`;
- the error responses come from running `products_api.api.api_responses.error_outcome` on one instance of every
  exception of the error catalogue (`products_api.api.catalogue.ERRORS`) that the operation can raise, and on an
  unexpected exception (500): statuses, `code` values and headers are what the code sends, and a header is marked
  required when every instance of its status sends it; what each `code` means is the catalogue's `meaning`;
- the responses that carry `Idempotent-Replayed` are those of the outcomes the service keeps (`KEPT_ERRORS`);
- the paths and methods are checked against both the HttpApi events of `template.yaml` and the handlers' Powertools
  routes, and the finished document is parsed with Powertools' OpenAPI models.

What is written here is prose: where a route's codes mean something else than the catalogue says, and the header
descriptions.

The request body is described, not validated, by this document: the handler parses the JSON itself (exact decimals,
duplicate member names) and validates it with `ProductPatch`.

The modules, by what they describe:

- `document`: the whole document (info, servers, tags, security scheme) assembled from the route modules;
- `update` (PATCH /api/v1/products/{id}), `history` (GET .../history), `reading` (GET /api/v1/products/{id} and
  GET /api/v1/products), `images` (the three image routes), `usage` (GET /api/v1/usage): one route family each;
- `components` (the schemas, the shared id parameter, `OpenApiError`), `headers` (reason phrases, header
  descriptions, the RateLimit fields), `error_responses` (the error responses from the error catalogue), `examples`
  (the example product, history and error sentences): what the route modules share;
- `routes`: the document's routes checked against template.yaml and the handlers' own;
- `cli` (and `__main__`): the command line.
"""
