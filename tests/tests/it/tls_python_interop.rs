//! `wss://` with a TLS stack no one here wrote: Python's `websockets` over its
//! `ssl` module (OpenSSL) against the wspeer server, verifying our certificate.

use wspeer_core::{Config, TlsOptions};
use wspeer_testkit::TestCa;
use wspeer_tests::{
    python::{self, PythonProcess},
    server::spawn_echo_server,
};

#[tokio::test]
async fn python_client_over_tls_with_wspeer_server() {
    let Some(python) = python::interpreter("python_client_over_tls_with_wspeer_server").await
    else {
        return;
    };
    let ca = TestCa::new("wspeer interop CA");
    let cert = ca.server_cert(&["localhost"]);
    let tls = TlsOptions::server(cert.key_pem.as_bytes(), cert.cert_pem.as_bytes())
        .expect("server options");
    let addr = spawn_echo_server(Config::default().tls(tls)).await;
    let dir = std::env::temp_dir().join(format!("wspeer-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca.cert_pem()).expect("write the CA");

    let url = format!("wss://localhost:{}/", addr.port());
    let client = PythonProcess::spawn(
        &python,
        "echo_client.py",
        &[&url, ca_file.to_str().expect("UTF-8 path")],
    );
    let lines = client.finish().await;
    assert_eq!(lines, ["ok"]);
    let _ = std::fs::remove_dir_all(&dir);
}
