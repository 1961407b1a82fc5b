//! The nginx configuration of `docs/deploy.md`, taken from the document itself,
//! run with Debian's nginx in front of three clustered chat servers and a real
//! `redis-server`: WebSocket upgrades, plain HTTP and the cluster all work
//! through it. Skipped loudly when nginx or redis-server is missing, a failure
//! with `WSPEER_REQUIRE_INTEROP=1` (`.ci/run` installs Debian's nginx-light).

#![allow(clippy::unwrap_used)] // test code

use std::{process::Stdio, sync::atomic::Ordering::Relaxed};

use crate::support::{
    Node, Redis, WAIT, eventually_async, http_get, redis_server, said, send, wait_for, who_until,
};
use tokio::{net::TcpStream, process::Command, time::timeout};
use wspeer_core::{Config, WebSocket};

const DEPLOY: &str = include_str!("../../../../docs/deploy.md");

/// The document's nginx block, pointed at `upstreams`, listening on `port`,
/// with its files in `dir`.
fn configuration(upstreams: &[u16], port: u16, dir: &str) -> String {
    let block = DEPLOY
        .split("```nginx\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("an nginx block in docs/deploy.md");
    let mut conf = block.to_owned();
    for (documented, actual) in [8001, 8002, 8003].iter().zip(upstreams) {
        let from = format!("server 127.0.0.1:{documented};");
        assert!(
            conf.contains(&from),
            "{from} in the documented configuration"
        );
        conf = conf.replace(&from, &format!("server 127.0.0.1:{actual};"));
    }
    assert!(conf.contains("listen 80;"));
    conf = conf.replace("listen 80;", &format!("listen 127.0.0.1:{port};"));
    // Only what running unprivileged in a scratch directory needs.
    let local = format!(
        "access_log off;\n    client_body_temp_path {dir}/body;\n    proxy_temp_path {dir}/proxy;\n    \
         fastcgi_temp_path {dir}/fastcgi;\n    uwsgi_temp_path {dir}/uwsgi;\n    scgi_temp_path {dir}/scgi;\n"
    );
    conf = conf.replacen("http {\n", &format!("http {{\n    {local}"), 1);
    // One process, so killing it leaves no workers behind.
    format!(
        "daemon off;\nmaster_process off;\npid {dir}/nginx.pid;\nerror_log {dir}/error.log;\n{conf}"
    )
}

async fn client(port: u16) -> WebSocket {
    let url = format!("ws://127.0.0.1:{port}/chat/");
    let config = Config::default().supported_protocols(["demo-chat"]);
    timeout(WAIT, wspeer_core::connect_with(&url, config))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn the_documented_nginx_configuration_fronts_a_cluster() {
    let test = "the_documented_nginx_configuration_fronts_a_cluster";
    let Some(program) = redis_server(test) else {
        return;
    };
    let Some(nginx) =
        wspeer_testkit::interop::find_program(test, "nginx", "apt-get install nginx-light")
    else {
        return;
    };
    let redis = Redis::start(&program).await;
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(Node::start(&redis, 0).await);
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("wspeer-nginx-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dir_text = dir.to_str().unwrap().to_owned();
    let ports: Vec<u16> = nodes.iter().map(|n| n.port).collect();
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, configuration(&ports, port, &dir_text)).unwrap();
    let mut proxy = Command::new(nginx)
        .arg("-p")
        .arg(&dir)
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    eventually_async("nginx to listen", async || {
        match TcpStream::connect(("127.0.0.1", port)).await {
            Ok(_) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    })
    .await;

    // Plain HTTP through the proxy.
    let response = http_get(port, "/healthz").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("ok\n"), "{response}");

    // WebSockets through the proxy, spread over the servers.
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(client(port).await);
    }
    let names = who_until(&mut clients[0], |n| n.len() == 4).await;
    assert_eq!(names.len(), 4);
    let busy = nodes
        .iter()
        .filter(|n| n.server.metrics().connections.load(Relaxed) > 0)
        .count();
    assert!(busy >= 2, "least_conn spreads the clients");
    send(&clients[3], "through nginx").await;
    for client in &mut clients[..3] {
        wait_for(client, |l| said(l) == Some("through nginx")).await;
    }
    send(&clients[0], "and back").await;
    let line = wait_for(&mut clients[3], |l| said(l).is_some()).await;
    assert_eq!(said(&line), Some("and back"));

    proxy.kill().await.unwrap();
    for node in nodes {
        node.shutdown().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}
