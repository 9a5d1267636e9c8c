"""Products: the request, domain, storage and response shapes of a product, the rules of an update, the products
table's store, and the PATCH use case (idempotency around the rules)."""
