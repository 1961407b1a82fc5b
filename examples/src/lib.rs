//! Examples live beside this package; see `examples/README.md`.
