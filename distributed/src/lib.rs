//! Real distributed locks on Redis and PostgreSQL, each handing out a fencing token, and the
//! differential tests (`tests/differential_*.rs`) that run DISTRIBUTED.md §9's checks against
//! the real servers and lockproof's simulated twins.
