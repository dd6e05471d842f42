//! Rust bindings of the WIT world the runner implements itself (`wit/`).
//!
//! Like Spin's `spin-world` crate, this sits below every host interface and
//! names none of them: the `connection` resource stays a bindgen placeholder,
//! and `postgres` keeps its own table behind the resource's handle.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "microtaskhub:runner/runner-host",
    imports: { default: async },
});
