//! The centre's records and the rules about them: validation, roles and who may do what, and the
//! change format sent to head office. This crate does no IO: no files, no SQL, no network, no clock.

pub mod account;
pub mod centre;
pub mod change;
pub mod command;
pub mod desk;
pub mod error;
pub mod families;
pub mod labels;
pub mod role;
pub mod sync;
pub mod visits;

pub use error::{Invalid, Problem};
pub use role::Role;
