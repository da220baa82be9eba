//! One file per subcommand: its arguments and its `run`, returning the exit code.
pub mod check;
pub mod explain;
pub mod lab;
pub mod rules;
