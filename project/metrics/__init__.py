"""Metrics views and metrics SQL: view definitions, caller scope, filters, the compiler."""
