"""Reports for court: the case report (PDF and HTML), the s.65B / s.63 certificate,
operation statistics, VICS 2.0 exports for INTERPOL ICSE, and the registry that states
every generated file's SHA-256.

Data flows one way: the store is read with plain SELECTs (``case_data``, ``statistics``),
gathered into dataclasses, and rendered (``html``, ``pdf``); ``service`` ties the steps
together with access checks, the registry and the audit log, for the CLI, the demo and
the web console alike.
"""
