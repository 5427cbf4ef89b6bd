//! A stateful RunComfy Model API on loopback, with faults on purpose. Not built yet (issue 4).
//!
//! Contract: behaves like the service as documented — endpoints, auth, queue, cancel, expiry, a
//! storage host on a separate origin — binds 127.0.0.1 only, reproduces faults from a seed, and
//! reports what clients did (duplicate submissions, authorization headers seen by the storage
//! host). Depends on `happyhorse-types` and core's validation, never on `happyhorse-http`.
