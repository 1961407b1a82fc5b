//! The machine on a virtual clock: no socket, no runtime, no sleep.
