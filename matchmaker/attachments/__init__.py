"""Documents attached to demands, tech projects and offers: content checks, storage outside the web root, audited access."""
