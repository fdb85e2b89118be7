//! The app's commands and session state (set-up, sign-in, PIN lock, roles), with no Tauri in sight:
//! the desktop shell is a thin layer over [`App`].

pub mod api;
mod app;
pub mod bindings;
pub mod demo;
mod error;
mod export;
pub mod time;

pub use app::{App, Config, PIN_ATTEMPTS};
pub use error::{Error, Result, decode};
