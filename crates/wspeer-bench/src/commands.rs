//! The subcommands of `wspeer-bench`, each taking the flags `main` read and
//! returning whether its runs completed without an error.

use std::{
    io::Write,
    net::SocketAddr,
    time::{Duration, Instant},
};

use anyhow::Context;

use crate::{
    cli::Flags,
    gameloop::{self, GameLoopConfig},
    handshakes, idle_poll,
    load::{self, LoadConfig},
    memory, process,
    process::ServerProcess,
    report::{Table, num, opt, rate, sections},
    servers::ServerKind,
    suite::{self, SuiteConfig, SuiteResults},
};

/// The CPU the harness pins itself to; servers go on [`SERVER_CPU`].
const LOAD_CPU: usize = 0;
/// The CPU servers are pinned to when the machine has two.
const SERVER_CPU: usize = 1;

/// Writes a report to `--out FILE` when given, then to stdout.
fn publish(flags: &Flags, text: &str) -> anyhow::Result<()> {
    if let Some(path) = flags.text("out") {
        std::fs::write(path, text).with_context(|| format!("writing {path}"))?;
    }
    out(text)
}

fn out(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

/// Pins this process to CPU 0 (unless `--no-pin`), raises its open-file limit,
/// and returns the CPU servers should be pinned to.
fn setup(flags: &Flags) -> Option<usize> {
    process::raise_nofile();
    if flags.switch("--no-pin") || process::cpu_count() < 2 {
        eprintln!("not pinning: server and load generator share the CPUs");
        return None;
    }
    // Decided before pinning ourselves, which narrows what we can see.
    if process::pin_to(LOAD_CPU) {
        Some(SERVER_CPU)
    } else {
        eprintln!("could not pin to CPU {LOAD_CPU}; not pinning");
        None
    }
}

fn suite_config(flags: &Flags) -> anyhow::Result<SuiteConfig> {
    let exe = std::env::current_exe().context("the harness binary")?;
    let server_cpu = setup(flags);
    let mut config = SuiteConfig::new(exe, server_cpu);
    config.warmup = flags.seconds("warmup", config.warmup)?;
    config.duration = flags.seconds("duration", config.duration)?;
    config.rounds = flags.get("rounds", config.rounds)?.max(1);
    config.idle_connections = flags.get("idle", config.idle_connections)?;
    config.handshake_duration = flags.seconds("handshake-duration", config.handshake_duration)?;
    config.handshake_concurrency = flags.get("concurrency", config.handshake_concurrency)?;
    config.gameloop_duration = flags.seconds("gameloop-duration", config.gameloop_duration)?;
    config.gameloop_clients = flags.get("clients", config.gameloop_clients)?;
    config.idle_polls = flags.get("polls", config.idle_polls)?;
    config.servers = flags.servers(&config.servers)?;
    Ok(config)
}

/// `--wrap "valgrind --tool=callgrind"`: the command to run servers under.
fn wrapper(flags: &Flags) -> Vec<String> {
    let words = flags.text("wrap").unwrap_or_default().split_whitespace();
    words.map(String::from).collect()
}

/// `all`: every part, then the markdown report on stdout (and in `--out FILE`).
pub fn all(flags: &Flags) -> anyhow::Result<bool> {
    flags.only(&[
        "warmup",
        "duration",
        "rounds",
        "idle",
        "handshake-duration",
        "concurrency",
        "gameloop-duration",
        "clients",
        "polls",
        "servers",
        "out",
    ])?;
    let config = suite_config(flags)?;
    let started = Instant::now();
    let results = suite::run_all(&config);
    let mut report = results.markdown(&config);
    report.push_str(&format!(
        "\nThe whole run took {:.0} s.\n",
        started.elapsed().as_secs_f64()
    ));
    publish(flags, &report)?;
    Ok(results.all_ok())
}

/// `server <kind> <addr> [--cpu N]`: runs one echo server, printing its port.
pub fn server(flags: &Flags) -> anyhow::Result<bool> {
    flags.only(&["cpu"])?;
    let [kind, addr] = flags.positional.as_slice() else {
        anyhow::bail!("usage: server <kind> <addr> [--cpu N]");
    };
    let kind = ServerKind::parse(kind).with_context(|| format!("unknown server {kind}"))?;
    if let Some(cpu) = flags.text("cpu") {
        let cpu: usize = cpu.parse()?;
        if !process::pin_to(cpu) {
            eprintln!("server {kind}: could not pin to CPU {cpu}");
        }
    }
    process::raise_nofile();
    kind.run(addr, &mut |port| {
        // The harness reads this line; nothing else goes to stdout.
        let _ = out(&format!("{port}\n"));
    })?;
    Ok(true)
}

/// `load`: one echo workload against a server it starts or an address.
pub fn load(flags: &Flags) -> anyhow::Result<bool> {
    flags.only(&[
        "server",
        "connect",
        "connections",
        "size",
        "in-flight",
        "duration",
        "warmup",
        "wrap",
    ])?;
    let server_cpu = setup(flags);
    let mut config = LoadConfig::new(
        flags.get("connections", 100)?,
        flags.get("size", 20)?,
        flags.get("in-flight", 1)?,
        flags.seconds("duration", Duration::from_secs(5))?,
    );
    config.warmup = flags.seconds("warmup", Duration::from_secs(1))?;
    let wrapper = wrapper(flags);
    let (server, addr, label) = match (flags.text("server"), flags.text("connect")) {
        (Some(kind), None) => {
            let kind = ServerKind::parse(kind).with_context(|| format!("unknown server {kind}"))?;
            let exe = std::env::current_exe()?;
            let server = ServerProcess::spawn(&exe, kind, server_cpu, &wrapper)?;
            config.websocket = kind.is_websocket();
            config.server_pid = Some(server.pid());
            let addr = server.addr;
            (Some(server), addr, kind.label().to_owned())
        }
        (None, Some(addr)) => {
            config.websocket = !flags.switch("--raw");
            let addr: SocketAddr = addr.parse().context("--connect IP:port")?;
            (None, addr, addr.to_string())
        }
        _ => anyhow::bail!("give --server <kind> or --connect <addr>"),
    };
    let report = load::run(addr, &config)?;
    drop(server);
    let mut table = Table::new([
        "server",
        "connections × size, in flight",
        "msg/s",
        "p50 µs",
        "p99 µs",
        "p99.9 µs",
        "server CPU µs/msg",
        "load gen CPU µs/msg",
        "load gen CPU %",
        "errors",
    ]);
    table.row([
        label,
        format!(
            "{} × {} B, {}",
            config.connections, config.size, config.in_flight
        ),
        rate(report.rate()),
        num(report.latency_us(0.5)),
        num(report.latency_us(0.99)),
        num(report.latency_us(0.999)),
        opt(report.server_us_per_message(), 2),
        opt(report.client_us_per_message(), 2),
        opt(report.client_load().map(|l| 100.0 * l), 0),
        report.errors.to_string(),
    ]);
    out(&table.render())?;
    if let Some(error) = &report.first_error {
        eprintln!("first error: {error}");
    }
    Ok(report.ok())
}

/// `idle-memory`: RSS per idle connection for each WebSocket server.
pub fn idle_memory(flags: &Flags) -> anyhow::Result<bool> {
    flags.only(&["connections", "servers", "wrap"])?;
    let mut config = suite_config(flags)?;
    config.idle_connections = flags.get("connections", config.idle_connections)?;
    let mut results = SuiteResults::default();
    for kind in flags.servers(&ServerKind::WEBSOCKET)? {
        results.memory.push(memory::idle_memory(
            &config.exe,
            kind,
            config.idle_connections,
            config.server_cpu,
            &wrapper(flags),
        )?);
    }
    out(&sections::memory_table(&results, &config).render())?;
    Ok(results.all_ok())
}

/// `handshakes`: connect–handshake–close cycles per second for each server.
pub fn handshakes(flags: &Flags) -> anyhow::Result<bool> {
    flags.only(&["concurrency", "duration", "warmup", "servers"])?;
    let mut config = suite_config(flags)?;
    config.handshake_concurrency = flags.get("concurrency", config.handshake_concurrency)?;
    config.handshake_duration = flags.seconds("duration", config.handshake_duration)?;
    config.warmup = flags.seconds("warmup", config.warmup)?;
    let mut results = SuiteResults::default();
    for kind in flags.servers(&ServerKind::WEBSOCKET)? {
        let server = ServerProcess::spawn(&config.exe, kind, config.server_cpu, &[])?;
        let report = handshakes::run(
            server.addr,
            config.handshake_concurrency,
            config.warmup,
            config.handshake_duration,
        )?;
        if let Some(error) = &report.first_error {
            eprintln!("{kind}: {error}");
        }
        results.handshakes.push((kind, report));
    }
    out(&sections::handshake_table(&results, &config).render())?;
    Ok(results.all_ok())
}

/// `gameloop`: 60 Hz facade clients against async-core clients.
pub fn gameloop(flags: &Flags) -> anyhow::Result<bool> {
    flags.only(&["clients", "duration", "warmup"])?;
    let mut config = suite_config(flags)?;
    config.gameloop_clients = flags.get("clients", config.gameloop_clients)?;
    config.gameloop_duration = flags.seconds("duration", config.gameloop_duration)?;
    config.warmup = flags.seconds("warmup", config.warmup)?;
    let server =
        ServerProcess::spawn(&config.exe, ServerKind::WspeerAsync, config.server_cpu, &[])?;
    let run = GameLoopConfig {
        clients: config.gameloop_clients,
        frame: Duration::from_micros(16_667),
        warmup: config.warmup,
        duration: config.gameloop_duration,
    };
    let results = SuiteResults {
        gameloop: Some(gameloop::run(&format!("ws://{}", server.addr), &run)?),
        ..SuiteResults::default()
    };
    out(&sections::gameloop_table(&results, &config).render())?;
    Ok(results.all_ok())
}

/// `idle-poll`: the rough timed loop (the criterion benchmark is the real one).
pub fn idle_poll(flags: &Flags) -> anyhow::Result<bool> {
    flags.only(&["polls"])?;
    let ns = idle_poll::quick_ns_per_poll(flags.get("polls", 2_000_000)?)?;
    out(&format!("idle poll: {ns:.1} ns\n"))?;
    Ok(true)
}

/// `chat-fanout [--clients 10,50,100] [--rate 10] [--duration 5] [--servers 1,2,3]`:
/// N clients in one room, each sending `rate` messages a second, spread over 1,
/// 2 or 3 chat servers (clustered over a `redis-server` when more than one; `--redis`
/// clusters a single server too).
pub fn chat_fanout(flags: &Flags) -> anyhow::Result<bool> {
    let sizes: Vec<usize> = flags
        .text("clients")
        .unwrap_or("10,50,100")
        .split(',')
        .map(|n| n.trim().parse())
        .collect::<Result<_, _>>()?;
    let rate: f64 = flags.get("rate", 10.0)?;
    let duration = flags.seconds("duration", std::time::Duration::from_secs(5))?;
    let servers: Vec<usize> = flags
        .text("servers")
        .unwrap_or("1")
        .split(',')
        .map(|n| n.trim().parse())
        .collect::<Result<_, _>>()?;
    let redis = flags.switch("--redis");
    let mut reports = Vec::new();
    for &count in &servers {
        for &clients in &sizes {
            reports.push(crate::chat_fanout::run(
                clients, rate, duration, count, redis,
            )?);
        }
    }
    out(&crate::chat_fanout::markdown(&reports))?;
    Ok(reports.iter().all(|r| r.errors == 0))
}

/// `chat-soak`: clients in rooms of real `wspeer-chat` processes for minutes,
/// dropping and resuming at random; every line checked delivered exactly once
/// to every member. Fails when the check does.
pub fn chat_soak(flags: &Flags) -> anyhow::Result<bool> {
    flags.only(&[
        "clients",
        "rooms",
        "duration-secs",
        "line-rate",
        "disconnect-rate",
        "away-max",
        "history",
        "server-rate",
        "servers",
        "seed",
        "drain-timeout",
        "chat-bin",
        "out",
    ])?;
    use crate::chat_soak::{SoakConfig, default_binary, run};
    let chat_bin = match flags.text("chat-bin") {
        Some(path) => path.into(),
        None => default_binary()?,
    };
    let mut config = SoakConfig::new(chat_bin);
    config.clients = flags.get("clients", config.clients)?;
    config.rooms = flags.get("rooms", config.rooms)?;
    config.duration = flags.seconds("duration-secs", config.duration)?;
    config.line_rate = flags.get("line-rate", config.line_rate)?;
    config.disconnect_rate = flags.get("disconnect-rate", config.disconnect_rate)?;
    config.away_max = flags.seconds("away-max", config.away_max)?;
    config.history = flags.get("history", config.history)?;
    config.server_rate = flags.get("server-rate", config.server_rate)?;
    config.servers = flags.get("servers", config.servers)?;
    config.redis = flags.switch("--redis");
    config.seed = flags.get("seed", config.seed)?;
    config.drain_timeout = flags.seconds("drain-timeout", config.drain_timeout)?;
    let report = run(&config)?;
    let text = report.render();
    publish(flags, &text)?;
    Ok(report.ok())
}

/// `slow-handshakes`: a slow-handshake attack on a server it starts
/// (`--server KIND`) or on one already running (`--connect ADDR`, with
/// `--pid PID` for its memory), and what fresh clients see meanwhile.
pub fn slow_handshakes(flags: &Flags) -> anyhow::Result<bool> {
    flags.only(&[
        "server",
        "connect",
        "pid",
        "attackers",
        "sources",
        "duration",
        "reopen-after",
        "path",
        "protocol",
        "health",
    ])?;
    use crate::slow_handshakes::{AttackConfig, run};
    let mut config = AttackConfig::default();
    config.attackers = flags.get("attackers", config.attackers)?;
    config.sources = flags.get("sources", config.sources)?;
    config.duration = flags.seconds("duration", config.duration)?;
    config.reopen_after = flags.seconds("reopen-after", config.reopen_after)?;
    if let Some(path) = flags.text("path") {
        config.path = path.to_owned();
    }
    config.protocol = flags.text("protocol").map(str::to_owned);
    config.health_path = flags.text("health").map(str::to_owned);
    // A chat server answers a message with a broadcast, not an echo.
    config.echo = config.protocol.is_none();
    let exe = std::env::current_exe().context("the harness binary")?;
    let (server, addr, pid) = match (flags.text("server"), flags.text("connect")) {
        (Some(kind), None) => {
            let kind = ServerKind::parse(kind).with_context(|| format!("unknown server {kind}"))?;
            let server = ServerProcess::spawn(&exe, kind, None, &[])?;
            let (addr, pid) = (server.addr, server.pid());
            (Some(server), addr, Some(pid))
        }
        (None, Some(addr)) => {
            let pid = flags.text("pid").map(str::parse).transpose()?;
            (None, addr.parse()?, pid)
        }
        _ => anyhow::bail!("give --server KIND or --connect ADDR"),
    };
    let report = run(addr, pid, &config)?;
    drop(server);
    let ms = |h: &hdrhistogram::Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1e6;
    let mut text = format!(
        "{} attackers ({} got a connection) from {} address(es), {:?} at the height: {} connects, {} dropped by the server\n",
        config.attackers,
        report.attackers_connected,
        config.sources,
        config.duration,
        report.attack_connects,
        report.attack_dropped
    );
    text += &format!(
        "fresh clients: {} ok, {} failed{}; p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms\n",
        report.fresh.len(),
        report.fresh_failed,
        report
            .first_failure
            .as_ref()
            .map(|f| format!(" (first: {f})"))
            .unwrap_or_default(),
        ms(&report.fresh, 0.5),
        ms(&report.fresh, 0.99),
        report.fresh.max() as f64 / 1e6
    );
    if config.health_path.is_some() {
        text += &format!(
            "health: {} ok, {} failed; p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms\n",
            report.health.len(),
            report.health_failed,
            ms(&report.health, 0.5),
            ms(&report.health, 0.99),
            report.health.max() as f64 / 1e6
        );
    }
    if let Some((before, peak, end)) = report.rss_kib {
        text += &format!(
            "server RSS: {before} KiB before, {peak} KiB at most during the attack, {end} KiB at its end\n"
        );
    }
    out(&text)?;
    Ok(report.fresh_failed == 0 && report.health_failed == 0)
}

/// `deflate`: echo with permessage-deflate in each mode against none.
pub fn deflate(flags: &Flags) -> anyhow::Result<bool> {
    flags.only(&["connections", "duration", "rounds", "idle"])?;
    let server_cpu = setup(flags);
    let bench = crate::deflate_echo::DeflateBench {
        exe: std::env::current_exe()?,
        connections: flags.get("connections", 10)?,
        duration: flags.seconds("duration", std::time::Duration::from_secs(3))?,
        rounds: flags.get("rounds", 3)?,
        idle: flags.get("idle", 5000)?,
        server_cpu,
    };
    out(&crate::deflate_echo::run(&bench)?)?;
    Ok(true)
}

/// `hold --server wspeer-async|chat --connections N`: one server holds N
/// concurrent connections (from several loopback source addresses) while a
/// fresh client measures its round trips; for the chat, spread over
/// `--rooms` rooms, with `--rate` lines a second for `--duration` seconds,
/// each timed and checked delivered to every other member of its room.
pub fn hold(flags: &Flags) -> anyhow::Result<bool> {
    flags.only(&[
        "server",
        "connections",
        "rooms",
        "rate",
        "duration",
        "sources",
        "per-source",
        "probes",
        "seed",
        "chat-bin",
        "out",
    ])?;
    use crate::hold::{HoldConfig, Server, run};
    let server = match flags.text("server").unwrap_or("wspeer-async") {
        "wspeer-async" => Server::Echo,
        "chat" => Server::Chat(match flags.text("chat-bin") {
            Some(path) => path.into(),
            None => crate::chat_soak::default_binary()?,
        }),
        other => anyhow::bail!("--server {other}: give wspeer-async or chat"),
    };
    let exe = std::env::current_exe().context("the harness binary")?;
    let mut config = HoldConfig::new(server, exe, flags.get("connections", 100_000)?);
    config.rooms = flags.get("rooms", config.rooms)?;
    config.rate = flags.get("rate", config.rate)?;
    config.duration = flags.seconds("duration", config.duration)?;
    config.sources = flags.get("sources", config.sources)?;
    config.per_source = flags.get("per-source", config.per_source)?;
    config.probes = flags.get("probes", config.probes)?;
    config.seed = flags.get("seed", config.seed)?;
    let report = run(&config)?;
    let text = report.render();
    publish(flags, &text)?;
    Ok(report.ok())
}
