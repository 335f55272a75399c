//! Rules as data: parsing (`file`), windows (`window`) and plain-Japanese text (`text`).

pub mod file;
pub mod text;
pub mod window;

pub use file::{LoadOptions, Node, Rule, RuleError, load_rules};
pub use window::Window;
