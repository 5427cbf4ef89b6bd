//! The emulator's previews (rendered by `happyhorse-preview`): what a job's request asks to see,
//! the cache and render thread, and how jobs, storage and results use them.

pub(crate) mod cache;
pub(crate) mod plan;
pub(crate) mod request;
