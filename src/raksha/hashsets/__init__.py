"""Reference hash sets: reading the formats partners send, and writing them back out."""
