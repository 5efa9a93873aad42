//! Real TCP connections between the namespaces, with Rust's own sockets: a listener on b
//! that sends a known byte pattern, and a client on a that reads and compares it.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::netns::{in_netns, spawn_in};

/// How long a connection attempt may take inside the namespaces (no loss there: the SYN is
/// either forwarded at once or dropped for good).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The byte at `offset` of every transfer. The period 251 (prime) is no multiple of any
/// segment size, and the high byte of the period count changes every 251 bytes, so a lost,
/// repeated or misplaced segment shows at its first byte.
pub fn pattern_byte(offset: usize) -> u8 {
    (offset % 251) as u8 ^ (offset / 251) as u8
}

/// A TCP listener bound inside a namespace.
///
/// Retried for a moment on EADDRINUSE: a test that connects in a loop rebinds the port right
/// after closing the last listener, and on a loaded machine (CI once) the kernel could still
/// count that one as listening.
pub fn listen(ns: &str, address: SocketAddr) -> TcpListener {
    let start = Instant::now();
    loop {
        match in_netns(ns, move || TcpListener::bind(address)) {
            Ok(listener) => return listener,
            Err(e) if e.kind() == io::ErrorKind::AddrInUse && start.elapsed() < CONNECT_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("listen on {address}: {e}"),
        }
    }
}

/// A connection made from inside namespace `ns`.
pub fn connect(ns: &str, address: SocketAddr) -> io::Result<TcpStream> {
    in_netns(ns, move || {
        TcpStream::connect_timeout(&address, CONNECT_TIMEOUT)
    })
}

/// A server on b that sends `bytes` bytes of the pattern to the first client, then closes.
pub struct Server {
    pub address: SocketAddr,
    sender: JoinHandle<io::Result<()>>,
}

impl Server {
    pub fn start(ns: &str, address: SocketAddr, bytes: usize) -> Server {
        let listener = listen(ns, address);
        let sender = spawn_in(ns, move || {
            let (mut stream, _) = listener.accept()?;
            // A stalled client never reads; the timeout ends this thread instead of leaving
            // it blocked after the test.
            stream.set_write_timeout(Some(Duration::from_secs(15)))?;
            let data: Vec<u8> = (0..bytes).map(pattern_byte).collect();
            stream.write_all(&data)?;
            stream.shutdown(std::net::Shutdown::Write)
        });
        Server { address, sender }
    }

    /// Waits for the sender to finish and reports how it ended.
    pub fn finish(self) -> io::Result<()> {
        self.sender
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
    }
}

/// How a download ended, when it did not end well.
#[derive(Debug)]
pub enum Failure {
    Connect(io::Error),
    /// No complete transfer within the deadline.
    Stalled {
        received: usize,
        waited: Duration,
    },
    /// The connection ended early or broke.
    Ended {
        received: usize,
        error: Option<io::Error>,
    },
    /// More bytes came than the server sends.
    Overrun {
        received: usize,
    },
    /// A byte differed from the pattern.
    Corrupt {
        offset: usize,
        got: u8,
        want: u8,
    },
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Connect(error) => write!(f, "connect failed: {error}"),
            Failure::Stalled { received, waited } => {
                write!(f, "stalled: {received} bytes in {waited:?}")
            }
            Failure::Ended {
                received,
                error: None,
            } => {
                write!(f, "closed by the server after {received} bytes")
            }
            Failure::Ended {
                received,
                error: Some(error),
            } => {
                write!(f, "broke after {received} bytes: {error}")
            }
            Failure::Overrun { received } => write!(f, "{received} bytes, more than sent"),
            Failure::Corrupt { offset, got, want } => {
                write!(f, "byte {offset} is {got:#04x}, sent {want:#04x}")
            }
        }
    }
}

/// Connects from `ns` to `server`, reads `bytes` bytes within `deadline` and checks every byte
/// against the pattern. Returns how long the transfer took.
pub fn download(
    ns: &str,
    server: SocketAddr,
    bytes: usize,
    deadline: Duration,
) -> Result<Duration, Failure> {
    let start = Instant::now();
    let mut stream = connect(ns, server).map_err(Failure::Connect)?;
    // Short reads keep the deadline precise whether or not data trickles in.
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("read timeout");
    let mut buffer = vec![0u8; 64 * 1024];
    let mut received = 0;
    // Until the server's FIN: exactly `bytes` must come, no fewer and no more.
    loop {
        if start.elapsed() > deadline {
            let waited = start.elapsed();
            return Err(Failure::Stalled { received, waited });
        }
        match stream.read(&mut buffer) {
            Ok(0) if received == bytes => return Ok(start.elapsed()),
            Ok(0) => {
                return Err(Failure::Ended {
                    received,
                    error: None,
                })
            }
            Ok(n) => {
                if received + n > bytes {
                    return Err(Failure::Overrun {
                        received: received + n,
                    });
                }
                for (i, &got) in buffer[..n].iter().enumerate() {
                    let (offset, want) = (received + i, pattern_byte(received + i));
                    if got != want {
                        return Err(Failure::Corrupt { offset, got, want });
                    }
                }
                received += n;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => {
                let error = Some(error);
                return Err(Failure::Ended { received, error });
            }
        }
    }
}
