"""Scenario files: reading (imports, overrides, file:line map), the schema, and cross-reference checks."""
