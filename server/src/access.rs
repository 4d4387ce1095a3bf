//! Who may use the server and what they may run: logins (passwords and a
//! brake on guessing), what each role may reach, and the one gate every
//! SQL statement passes, whichever protocol brought it.

pub mod gate;
pub mod logins;
pub mod roles;

pub use gate::{Gate, Refusal};
pub use logins::{ANONYMOUS, Caller, Logins, Refused, hash_password};
pub use roles::{first_unreadable, role_allows, role_may_read};
