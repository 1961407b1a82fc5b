//! `WebSocket::with_snapshot`: one look at a connection sees its facts agree.

use wspeer_core::{Config, Message, ReadyState};
use wspeer_tests::{server::connected, within};

#[tokio::test]
async fn a_snapshot_sees_the_queue_and_the_state_of_one_instant() {
    let (server, client) = connected(Config::default(), Config::default()).await;
    client.send(Message::text("one")).await.expect("send");
    client.send(Message::text("two")).await.expect("send");
    client.close(4000, "done").expect("close");
    within("the server to see the close", server.closed()).await;

    let (state, close, available, buffered) = server.with_snapshot(|now| {
        (
            now.ready_state(),
            now.close_status().clone(),
            now.available(),
            now.buffered_amount(),
        )
    });
    assert_eq!(state, ReadyState::Closed);
    assert_eq!((close.code, close.reason.as_str()), (4000, "done"));
    // Both messages came before the close and are still there to read.
    assert_eq!(available, 2);
    // Not open, so nothing counts as waiting to be sent.
    assert_eq!(buffered, 0);
    assert_eq!(
        server.with_snapshot(|now| now.info().clone()),
        server.info()
    );
}
