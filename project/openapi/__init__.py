"""The OpenAPI document: its builder, what each API says about itself, schemas inferred from results."""
