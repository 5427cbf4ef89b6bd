mod bad_input;
mod batch;
mod common;
mod help;
mod jobs;
mod offline;
mod secrets;
mod soak;
