"""Data exchange: registers as data services, ex officio queries for a case's evidence, the
signed message log of every exchange, and the personal-data access log (the Data Tracker)."""
