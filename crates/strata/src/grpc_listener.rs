//! Accepted gRPC connections with `TCP_NODELAY`: without it, small unary answers (Info,
//! label calls, short Series streams) wait for the peer's delayed ACK (~40 ms).

use tokio::net::{TcpListener, TcpStream};
use tokio_stream::wrappers::TcpListenerStream;
use tokio_stream::{Stream, StreamExt};

/// The listener's connections, each with `TCP_NODELAY` set.
pub fn incoming(listener: TcpListener) -> impl Stream<Item = std::io::Result<TcpStream>> {
    TcpListenerStream::new(listener).map(|r| {
        r.inspect(|s| {
            let _ = s.set_nodelay(true);
        })
    })
}
