"""`pricing reliability` (`make reliability`): load, faults, bad input and security, measured on the real
server (waitress over loopback, a real redis-server) and written to one JSON report.

Modules: processes (the servers and a slow-Redis proxy), load (concurrent clients), checks (what every
response must be), faults (Redis killed or slow, store unreachable, broken models, over-bound requests),
fuzz (Hypothesis over paths and queries), security (CORS, headers, leaks, cache inflation), bundles
(broken copies of a bundle), runner (the whole run and its report)."""
