"""The demo registers — civil registry, residence register, local tax records — run as a data
service of their own: own tables, own client tokens, own signed message log, reached by the
platform over HTTP like any other register (see docs/exchange.md)."""
