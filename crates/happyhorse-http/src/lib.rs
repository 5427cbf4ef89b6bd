//! The async client for RunComfy's Model API. Not built yet (issue 5).
//!
//! Contract: drives `happyhorse-core`'s state machine with reqwest and tokio (the only polling
//! loop in the workspace). The API token is held in a secret type, never logged, never put in an
//! error, and never sent to any origin but the API's own; downloads are atomic; no reqwest or hyper
//! type appears in a public signature.
