//! A small `--name value` flag reader for the harness's subcommands (no parser
//! dependency: the harness has few flags and they are all numbers or lists).

use std::{collections::HashMap, str::FromStr, time::Duration};

use anyhow::{Context, bail};

use crate::servers::ServerKind;

/// Flags given after a subcommand: `--name value` pairs and bare `--switch`es.
#[derive(Debug, Default)]
pub struct Flags {
    values: HashMap<String, String>,
    switches: Vec<String>,
    /// Arguments that are not flags, in order.
    pub positional: Vec<String>,
}

/// Flags that take no value.
const SWITCHES: [&str; 3] = ["--raw", "--no-pin", "--redis"];

impl Flags {
    /// Reads `args` (without the program name and subcommand).
    pub fn parse(args: impl IntoIterator<Item = String>) -> anyhow::Result<Self> {
        let mut flags = Flags::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if SWITCHES.contains(&arg.as_str()) {
                flags.switches.push(arg);
            } else if let Some(name) = arg.strip_prefix("--") {
                let value = args
                    .next()
                    .with_context(|| format!("--{name} needs a value"))?;
                flags.values.insert(name.to_owned(), value);
            } else {
                flags.positional.push(arg);
            }
        }
        Ok(flags)
    }

    /// Whether a switch such as `--raw` was given.
    pub fn switch(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }

    /// The raw value of `--name`.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// `--name` parsed, or `default`.
    pub fn get<T: FromStr>(&self, name: &str, default: T) -> anyhow::Result<T>
    where
        T::Err: std::fmt::Display,
    {
        match self.text(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|e| anyhow::anyhow!("--{name} {v}: {e}")),
        }
    }

    /// `--name` in seconds (fractions allowed), or `default`.
    pub fn seconds(&self, name: &str, default: Duration) -> anyhow::Result<Duration> {
        match self.text(name) {
            None => Ok(default),
            Some(v) => Duration::try_from_secs_f64(v.parse()?).with_context(|| format!("--{name}")),
        }
    }

    /// `--servers a,b,c`, or `default`.
    pub fn servers(&self, default: &[ServerKind]) -> anyhow::Result<Vec<ServerKind>> {
        let Some(list) = self.text("servers") else {
            return Ok(default.to_vec());
        };
        list.split(',')
            .map(|name| {
                ServerKind::parse(name.trim()).with_context(|| {
                    let known: Vec<_> = ServerKind::ALL.iter().map(|k| k.name()).collect();
                    format!("unknown server {name:?}; known: {}", known.join(", "))
                })
            })
            .collect()
    }

    /// Fails if any flag was given that is not in `known`.
    pub fn only(&self, known: &[&str]) -> anyhow::Result<()> {
        for name in self.values.keys() {
            if !known.contains(&name.as_str()) {
                bail!(
                    "unknown flag --{name}; this subcommand takes: {}",
                    known.join(", ")
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_values_switches_and_positionals() {
        let args = [
            "kind",
            "--duration",
            "1.5",
            "--raw",
            "--servers",
            "raw-tcp,wspeer-async",
        ];
        let flags = Flags::parse(args.map(String::from)).expect("parse");
        assert_eq!(flags.positional, ["kind"]);
        assert!(flags.switch("--raw"));
        assert_eq!(
            flags.seconds("duration", Duration::ZERO).expect("seconds"),
            Duration::from_millis(1500)
        );
        assert_eq!(
            flags.servers(&[]).expect("servers"),
            [ServerKind::RawTcp, ServerKind::WspeerAsync]
        );
        assert_eq!(flags.get("connections", 7usize).expect("default"), 7);
        assert!(flags.only(&["duration"]).is_err());
    }
}
