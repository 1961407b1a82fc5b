//! Godot's queue limits through the facade: backpressure in, 1009 on oversize.

use crate::support::{pair_with, poll_until, wait_packets};
use wspeer::{ReadyState, WebSocketPeer};

#[test]
fn a_full_inbound_queue_pushes_back_and_loses_nothing() {
    let mut slow = WebSocketPeer::new();
    slow.set_max_queued_packets(4);
    slow.set_inbound_buffer_size(1024);
    let (mut slow, mut fast) = pair_with(slow, WebSocketPeer::new());

    let total = 200;
    let mut sent = 0;
    // The slow side does not read: what it holds never exceeds its limits.
    poll_until("the fast side to be held back", || {
        while sent < total && fast.put_packet(&[sent as u8; 100]).is_ok() {
            sent += 1;
        }
        fast.poll();
        slow.poll();
        assert!(slow.available_packet_count() <= 4);
        slow.available_packet_count() == 4
    });
    // Now read everything: all of it, in order.
    let mut received = 0;
    poll_until("every message", || {
        while sent < total && fast.put_packet(&[sent as u8; 100]).is_ok() {
            sent += 1;
        }
        fast.poll();
        slow.poll();
        assert!(slow.available_packet_count() <= 4);
        while let Ok(packet) = slow.get_packet() {
            assert_eq!(packet.len(), 100);
            assert!(packet.iter().all(|&b| b == received as u8));
            received += 1;
        }
        received == total
    });
    assert_eq!(slow.ready_state(), ReadyState::Open);
}

#[test]
fn a_message_over_inbound_buffer_size_closes_with_1009() {
    let mut small = WebSocketPeer::new();
    small.set_inbound_buffer_size(100);
    let (mut small, mut other) = pair_with(small, WebSocketPeer::new());
    other.put_packet(&[0; 100]).unwrap();
    wait_packets(&mut small, 1);
    assert_eq!(
        small.get_packet().unwrap().len(),
        100,
        "exactly the limit is fine"
    );
    other.put_packet(&[0; 101]).unwrap();
    poll_until("1009", || {
        small.poll();
        other.poll();
        small.ready_state() == ReadyState::Closed && other.ready_state() == ReadyState::Closed
    });
    assert_eq!(small.close_code(), 1009);
    assert_eq!(small.close_reason(), "Message too big");
    assert_eq!(other.close_code(), 1009);
}
