//! The app's commands and session state, with no Tauri in sight: the desktop shell calls these.

pub mod api;
pub mod bindings;
