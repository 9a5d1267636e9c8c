"""A product's change history: its table's store, the stream recorder that writes it, and the GET route's reader."""
