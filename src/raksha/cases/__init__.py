"""Cases, operations, seizures and custody, users and roles, and the audit log."""
