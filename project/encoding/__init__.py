"""Result rows -> bytes: JSON produced in bulk by the engine, and small answers encoded in Python."""
