"""Use cases shared by the CLI and (later) the web console: each wires readers, hashers,
the matcher and the store together for one thing a user does."""
