"""Who is calling and what they may do: opaque tokens, JWTs, the authenticator, access and row policies."""
