//! `fermyon:spin/variables@2.0.0`: a component reads only the variables its
//! manifest section declares, with Spin's error variants and messages.

use wasmtime::component::{HasData, Linker};

use super::resolve::{ComponentVariables, validate_name};
use crate::bindings::fermyon::spin::variables::{self, Error, Host};

impl Host for &ComponentVariables {
    async fn get(&mut self, name: String) -> Result<String, Error> {
        validate_name(&name).map_err(Error::InvalidName)?;
        let id = &self.id;
        self.values
            .get(&name)
            .cloned()
            .ok_or_else(|| Error::Undefined(format!("no variable for {id:?}.{name:?}")))
    }
}

/// The interface reads shared, read-only state, so a store lends it out.
struct Variables;

impl HasData for Variables {
    type Data<'a> = &'a ComponentVariables;
}

/// Links the interface; `get` finds the instance's variables in its store.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &ComponentVariables,
) -> wasmtime::Result<()> {
    variables::add_to_linker::<T, Variables>(linker, get)
}
