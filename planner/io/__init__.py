"""Tables in and out: the input schema, reading, validation, and file writers."""
