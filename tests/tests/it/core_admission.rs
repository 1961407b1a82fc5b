//! `HttpService::admit`: the last word on an upgrade, and a guard that the
//! connection holds until it ends, whichever way it ends.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use tokio::{io::AsyncWriteExt, net::TcpStream};
use wspeer_core::{Admission, Config, HttpRequest, HttpResponse, HttpService, Message};
use wspeer_tests::{
    eventually,
    raw_http::{read_head, read_response, upgrade_request},
    server::TestServer,
    within,
};

/// Admits up to `limit` connections at once, counting them with a guard.
struct Counted {
    open: Arc<AtomicUsize>,
    limit: usize,
}

struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl HttpService for Counted {
    fn respond(&self, _: &HttpRequest) -> Option<HttpResponse> {
        None
    }

    fn admit(&self, _: &HttpRequest) -> Result<Admission, HttpResponse> {
        self.open
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.limit).then_some(n + 1)
            })
            .map(|_| Admission::hold(Slot(self.open.clone())))
            .map_err(|n| HttpResponse::text(503, format!("full: {n} open")))
    }
}

fn open_is(open: &AtomicUsize, wanted: usize) -> impl FnMut() -> Result<(), String> + '_ {
    move || match open.load(Ordering::SeqCst) {
        n if n == wanted => Ok(()),
        n => Err(format!("{n} admitted, want {wanted}")),
    }
}

#[tokio::test]
async fn the_guard_lives_as_long_as_the_connection_however_it_ends() {
    let open = Arc::new(AtomicUsize::new(0));
    let service = Counted {
        open: open.clone(),
        limit: 2,
    };
    let mut server = TestServer::start(Config::default().http_service(service)).await;

    // Closed by the client with a closing handshake.
    let client = wspeer_core::connect(&server.url("/"))
        .await
        .expect("connect");
    let accepted = server.accept().await;
    assert_eq!(open.load(Ordering::SeqCst), 1);
    client.close(1000, "bye").expect("close");
    assert_eq!(accepted.closed().await.code, 1000);
    eventually("the closed connection's slot back", open_is(&open, 0)).await;

    // Dropped by the client without a word, while the server keeps its handle.
    let mut raw = TcpStream::connect(server.addr()).await.expect("connect");
    let request = upgrade_request(&server.addr().to_string(), "/", &[]);
    raw.write_all(request.as_bytes()).await.expect("send");
    let head = within("the 101", read_head(&mut raw)).await;
    assert_eq!(head.first_line(), "HTTP/1.1 101 Switching Protocols");
    let kept = server.accept().await;
    assert_eq!(open.load(Ordering::SeqCst), 1);
    drop(raw);
    kept.closed().await;
    eventually("the dropped connection's slot back", open_is(&open, 0)).await;
    drop(kept);

    // Past the limit, `admit` refuses with its own response.
    let a = wspeer_core::connect(&server.url("/"))
        .await
        .expect("connect");
    let _b = wspeer_core::connect(&server.url("/"))
        .await
        .expect("connect");
    let mut third = TcpStream::connect(server.addr()).await.expect("connect");
    third.write_all(request.as_bytes()).await.expect("send");
    let response = within("the refusal", read_response(&mut third)).await;
    assert_eq!(
        response.head.first_line(),
        "HTTP/1.1 503 Service Unavailable"
    );
    assert!(response.body.contains("full: 2 open"), "{response:?}");
    // The refused request took no slot, and the admitted ones still talk.
    assert_eq!(open.load(Ordering::SeqCst), 2);
    let mut served = server.accept().await;
    a.send(Message::text("still here")).await.expect("send");
    let got = within("a message", served.recv()).await;
    assert_eq!(
        got.and_then(|m| m.as_text().map(str::to_owned)).as_deref(),
        Some("still here")
    );
}
