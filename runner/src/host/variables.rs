//! `fermyon:spin/variables@2.0.0`: a component reads only the variables its
//! manifest section declares, with Spin's error variants and messages.

use super::StoreState;
use super::bindings::fermyon::spin::variables::{Error, Host};
use crate::variables::validate_name;

impl Host for StoreState {
    async fn get(&mut self, name: String) -> Result<String, Error> {
        validate_name(&name).map_err(Error::InvalidName)?;
        let id = &self.component.id;
        self.component
            .variables
            .get(&name)
            .cloned()
            .ok_or_else(|| Error::Undefined(format!("no variable for {id:?}.{name:?}")))
    }
}
