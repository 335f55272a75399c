//! Rules as data: parsing (`file`), windows (`window`) and plain-Japanese text (`text`).

pub(crate) mod file;
pub(crate) mod text;
pub(crate) mod window;

pub use file::{BUILT_IN, LoadOptions, Node, Rule, RuleError, load_rules, parse_rule};
pub use text::{TextContext, describe};
pub use window::Window;
