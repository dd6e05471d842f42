//! Variables, as Spin's variables factor: the application's variables are
//! resolved once at start-up ([`resolve`]), and each component reads the
//! ones its manifest section declares through `fermyon:spin/variables`
//! ([`host`]).

mod host;
mod resolve;

pub use host::add_to_linker;
pub use resolve::{AppVariables, ComponentVariables};
