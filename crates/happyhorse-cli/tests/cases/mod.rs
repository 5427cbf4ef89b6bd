mod bad_input;
mod common;
mod help;
mod jobs;
mod offline;
