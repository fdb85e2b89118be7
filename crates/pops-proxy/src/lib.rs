//! A fault-injecting TCP proxy for the sync tests: it sits on a loopback port between a device and
//! the hub, reads just enough HTTP/1.1 to know which request each connection is carrying, and does
//! to the requests that match a rule what the rule says: lose the hub's response after the hub has
//! acted on the request, answer 503 itself, cut the connection, or call a hook (say, SIGKILL the
//! device) the moment the response starts back. The whole link can be taken down and brought up.
//!
//! ```no_run
//! # async fn example(hub: std::net::SocketAddr) {
//! use pops_proxy::{Fault, FaultProxy, Rule};
//!
//! let proxy = FaultProxy::start(hub).await;
//! proxy.add_rule(Rule::new("POST", "/batches", 1, Fault::LoseResponse));
//! // … point the device at proxy.url() …
//! assert!(proxy.seen().iter().any(|s| s.fault == Some("lose_response")));
//! # }
//! ```

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

/// A hook the proxy calls; it runs on the proxy's task, so it must be quick.
pub type Hook = Arc<dyn Fn() + Send + Sync>;

/// What to do to a matching request.
#[derive(Clone)]
pub enum Fault {
    /// Forward the request; when the hub's response starts back, drop it and close the connection.
    /// The hub has done the work; the device never hears.
    LoseResponse,
    /// Answer `503 Service Unavailable` with `Retry-After: secs` without forwarding.
    Unavailable { retry_after_secs: u64 },
    /// Close the connection without forwarding anything.
    Cut,
    /// Forward both ways, and call the hook as soon as the response's first bytes reach the device.
    AfterResponse(Hook),
    /// Forward the request; hold the response until the hook has run, then forward it: something
    /// happens at the device after the hub has done the work and before the device hears.
    BeforeResponse(Hook),
    /// Forward the response's first `bytes` bytes, then close: a reply cut off part way.
    Truncate { bytes: usize },
    /// Forward the request, and at the same moment send `extra` more copies of it to the hub, each
    /// on a connection of its own; their replies are kept in [`Seen::copies`], the device gets the
    /// original's.
    Duplicate { extra: usize },
}

impl Fault {
    fn name(&self) -> &'static str {
        match self {
            Fault::LoseResponse => "lose_response",
            Fault::Unavailable { .. } => "unavailable",
            Fault::Cut => "cut",
            Fault::AfterResponse(_) => "after_response",
            Fault::BeforeResponse(_) => "before_response",
            Fault::Truncate { .. } => "truncate",
            Fault::Duplicate { .. } => "duplicate",
        }
    }
}

/// Which requests a fault applies to, and how many more times.
#[derive(Clone)]
pub struct Rule {
    method: String,
    path_contains: String,
    skip: usize,
    times: usize,
    fault: Fault,
}

impl Rule {
    /// Applies `fault` to the next `times` requests with this method whose path contains `path_contains`.
    pub fn new(method: &str, path_contains: &str, times: usize, fault: Fault) -> Rule {
        Rule { method: method.to_string(), path_contains: path_contains.to_string(), skip: 0, times, fault }
    }

    /// Lets the first `n` matching requests through untouched before the fault applies.
    pub fn skipping(self, n: usize) -> Rule {
        Rule { skip: n, ..self }
    }
}

/// One request the proxy saw, and what it did to it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Instant,
    pub method: String,
    pub path: String,
    /// `None` when it was passed through untouched.
    pub fault: Option<&'static str>,
    /// For [`Fault::Duplicate`]: each copy's whole reply (status line, headers and body).
    pub copies: Vec<Vec<u8>>,
}

#[derive(Default)]
struct Shared {
    rules: Mutex<Vec<Rule>>,
    seen: Mutex<Vec<Seen>>,
    down: AtomicBool,
    connections: Mutex<Vec<AbortHandle>>,
    /// Bytes forwarded from the device to the hub, headers and all.
    bytes_up: std::sync::atomic::AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    /// The fault for this request, if a rule with uses left matches (the first such rule).
    fn fault_for(&self, method: &str, path: &str) -> Option<Fault> {
        let mut rules = lock(&self.rules);
        let rule = rules.iter_mut().find(|r| r.times > 0 && r.method == method && path.contains(&r.path_contains))?;
        if rule.skip > 0 {
            rule.skip -= 1;
            return None;
        }
        rule.times -= 1;
        Some(rule.fault.clone())
    }
}

/// The proxy; it stops when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream`. Must be called inside a tokio runtime.
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy on loopback");
        let addr = listener.local_addr().expect("the proxy's address");
        let shared = Arc::new(Shared::default());
        let accept_shared = shared.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if accept_shared.down.load(Ordering::SeqCst) {
                    drop(client); // the link is down: the connection closes at once
                    continue;
                }
                let conn_shared = accept_shared.clone();
                let task = tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        connection(client, server, upstream, conn_shared).await;
                    }
                });
                let mut live = lock(&accept_shared.connections);
                live.retain(|h| !h.is_finished());
                live.push(task.abort_handle());
            }
        });
        FaultProxy { addr, shared, accept }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: what the device is given as the hub's address.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn add_rule(&self, rule: Rule) {
        lock(&self.shared.rules).push(rule);
    }

    /// Takes the link down (every open connection is cut, new ones close at once) or brings it up.
    pub fn set_down(&self, down: bool) {
        self.shared.down.store(down, Ordering::SeqCst);
        if down {
            for handle in lock(&self.shared.connections).drain(..) {
                handle.abort();
            }
        }
    }

    /// How many bytes the device has sent through the proxy (requests, headers and all).
    pub fn bytes_up(&self) -> u64 {
        self.shared.bytes_up.load(Ordering::SeqCst)
    }

    /// Every request seen so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.shared.seen).clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.set_down(true);
    }
}

/// The head of one HTTP/1.1 request: its line, and how many body bytes follow.
struct Head {
    method: String,
    path: String,
    len: usize,
    body_length: Option<usize>,
}

fn parse_head(buf: &[u8]) -> Option<Head> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let text = String::from_utf8_lossy(&buf[..end]);
    let mut lines = text.split("\r\n");
    let mut request = lines.next()?.split(' ');
    let method = request.next()?.to_string();
    let path = request.next()?.to_string();
    let mut body_length = Some(0);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => body_length = value.trim().parse().ok(),
            // A chunked body has no length up front: the rest of the connection is passed as it is.
            "transfer-encoding" if value.to_ascii_lowercase().contains("chunked") => body_length = None,
            _ => {}
        }
    }
    Some(Head { method, path, len: end, body_length })
}

async fn connection(client: TcpStream, server: TcpStream, upstream: SocketAddr, shared: Arc<Shared>) {
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let client_write = Arc::new(tokio::sync::Mutex::new(client_write));
    let pending: Arc<Mutex<Option<Fault>>> = Arc::new(Mutex::new(None));
    tokio::select! {
        _ = requests(client_read, server_write, client_write.clone(), pending.clone(), upstream, shared) => {}
        _ = responses(server_read, client_write, pending) => {}
    }
}

/// Device → hub: reads each request's head, applies any fault, forwards the rest.
async fn requests(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    client: Arc<tokio::sync::Mutex<OwnedWriteHalf>>,
    pending: Arc<Mutex<Option<Fault>>>,
    upstream: SocketAddr,
    shared: Arc<Shared>,
) {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let head = loop {
            if let Some(head) = parse_head(&buf) {
                break head;
            }
            match from.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let fault = shared.fault_for(&head.method, &head.path);
        let index = {
            let mut seen = lock(&shared.seen);
            seen.push(Seen {
                at: Instant::now(),
                method: head.method.clone(),
                path: head.path.clone(),
                fault: fault.as_ref().map(Fault::name),
                copies: Vec::new(),
            });
            seen.len() - 1
        };
        match &fault {
            Some(Fault::Cut) => return,
            Some(Fault::Unavailable { retry_after_secs }) => {
                let body = r#"{"type":"about:blank","title":"Service Unavailable","status":503}"#;
                let reply = format!(
                    "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
                     retry-after: {retry_after_secs}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = client.lock().await.write_all(reply.as_bytes()).await;
                return;
            }
            Some(Fault::Duplicate { extra }) => {
                let Some(body_length) = head.body_length else { return };
                while buf.len() < head.len + body_length {
                    match from.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let request = buf[..head.len + body_length].to_vec();
                let copies = (0..*extra).map(|_| tokio::spawn(copy_of(upstream, request.clone())));
                let copies: Vec<_> = copies.collect();
                // The original goes at the same moment as the copies.
                if to.write_all(&request).await.is_err() {
                    return;
                }
                shared.bytes_up.fetch_add(request.len() as u64, Ordering::Relaxed);
                buf.drain(..request.len());
                let mut replies = Vec::new();
                for copy in copies {
                    replies.push(copy.await.unwrap_or_default());
                }
                lock(&shared.seen)[index].copies = replies;
                continue;
            }
            _ => *lock(&pending) = fault,
        }
        let Some(body_length) = head.body_length else {
            // Unknown length: forward everything from here on untouched.
            if to.write_all(&buf).await.is_err() {
                return;
            }
            let _ = tokio::io::copy(&mut from, &mut to).await;
            return;
        };
        let mut remaining = head.len + body_length;
        while remaining > 0 {
            if buf.is_empty() {
                match from.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let take = remaining.min(buf.len());
            if to.write_all(&buf[..take]).await.is_err() {
                return;
            }
            shared.bytes_up.fetch_add(take as u64, Ordering::Relaxed);
            buf.drain(..take);
            remaining -= take;
        }
    }
}

/// Sends one copy of `request` on a connection of its own, asking the hub to close it after the
/// reply, and answers the whole reply (empty if the hub could not be reached).
async fn copy_of(upstream: SocketAddr, request: Vec<u8>) -> Vec<u8> {
    let Ok(mut stream) = TcpStream::connect(upstream).await else { return Vec::new() };
    let Some(line_end) = request.windows(2).position(|w| w == b"\r\n") else { return Vec::new() };
    let mut copy = request[..line_end + 2].to_vec();
    copy.extend_from_slice(b"connection: close\r\n");
    copy.extend_from_slice(&request[line_end + 2..]);
    let mut reply = Vec::new();
    if stream.write_all(&copy).await.is_ok() {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(60), stream.read_to_end(&mut reply)).await;
    }
    reply
}

/// Hub → device: passes responses back, unless the request they answer was to lose its response.
/// HTTP/1.1 without pipelining: the bytes after a request is forwarded answer that request.
async fn responses(
    mut from: OwnedReadHalf,
    client: Arc<tokio::sync::Mutex<OwnedWriteHalf>>,
    pending: Arc<Mutex<Option<Fault>>>,
) {
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let fault = lock(&pending).take();
        match fault {
            Some(Fault::LoseResponse) => return,
            Some(Fault::Truncate { bytes }) => {
                let _ = client.lock().await.write_all(&chunk[..n.min(bytes)]).await;
                return;
            }
            Some(Fault::AfterResponse(hook)) => {
                if client.lock().await.write_all(&chunk[..n]).await.is_err() {
                    return;
                }
                hook();
            }
            Some(Fault::BeforeResponse(hook)) => {
                hook();
                if client.lock().await.write_all(&chunk[..n]).await.is_err() {
                    return;
                }
            }
            _ => {
                if client.lock().await.write_all(&chunk[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// A stand-in upstream for testing the proxy itself: answers every request with a fixed
    /// response and counts the requests that reached it.
    async fn upstream() -> (SocketAddr, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let counter = counter.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        if let Some(head) = parse_head(&buf) {
                            let total = head.len + head.body_length.unwrap_or(0);
                            if buf.len() >= total {
                                let close = String::from_utf8_lossy(&buf[..head.len]).contains("connection: close");
                                buf.drain(..total);
                                counter.fetch_add(1, Ordering::SeqCst);
                                let ok = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                                if s.write_all(ok.as_bytes()).await.is_err() || close {
                                    return;
                                }
                                continue;
                            }
                        }
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                });
            }
        });
        (addr, hits)
    }

    async fn send(addr: SocketAddr, request: &str) -> String {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        let mut chunk = [0u8; 4096];
        // Read until the upstream's 2-byte body or the connection's end.
        loop {
            match tokio::time::timeout(std::time::Duration::from_secs(5), s.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
                Ok(Ok(n)) => out.extend_from_slice(&chunk[..n]),
            }
            if out.ends_with(b"ok") {
                break;
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    const POST: &str = "POST /v1/devices/x/batches HTTP/1.1\r\nhost: h\r\ncontent-length: 5\r\n\r\nhello";

    #[tokio::test]
    async fn passes_loses_refuses_and_goes_down() {
        let (up, hits) = upstream().await;
        let proxy = FaultProxy::start(up).await;
        assert!(send(proxy.addr(), POST).await.ends_with("ok"));
        assert_eq!(hits.load(Ordering::SeqCst), 1);

        proxy.add_rule(Rule::new("POST", "/batches", 1, Fault::LoseResponse));
        assert_eq!(send(proxy.addr(), POST).await, "", "the response is lost");
        assert_eq!(hits.load(Ordering::SeqCst), 2, "but the request reached the upstream");

        proxy.add_rule(Rule::new("POST", "/batches", 1, Fault::Unavailable { retry_after_secs: 7 }));
        let reply = send(proxy.addr(), POST).await;
        assert!(reply.starts_with("HTTP/1.1 503") && reply.contains("retry-after: 7"), "{reply}");
        assert_eq!(hits.load(Ordering::SeqCst), 2, "a 503 from the proxy never reaches the upstream");

        let fired = Arc::new(AtomicBool::new(false));
        let flag = fired.clone();
        proxy.add_rule(Rule::new(
            "POST",
            "/batches",
            1,
            Fault::AfterResponse(Arc::new(move || flag.store(true, Ordering::SeqCst))),
        ));
        assert!(send(proxy.addr(), POST).await.ends_with("ok"));
        assert!(fired.load(Ordering::SeqCst));

        proxy.set_down(true);
        assert_eq!(send(proxy.addr(), POST).await, "");
        proxy.set_down(false);
        assert!(send(proxy.addr(), POST).await.ends_with("ok"));

        proxy.add_rule(Rule::new("POST", "/batches", 1, Fault::Truncate { bytes: 12 }));
        assert_eq!(send(proxy.addr(), POST).await, "HTTP/1.1 200");

        let before = hits.load(Ordering::SeqCst);
        proxy.add_rule(Rule::new("POST", "/batches", 1, Fault::Duplicate { extra: 3 }));
        assert!(send(proxy.addr(), POST).await.ends_with("ok"));
        assert_eq!(hits.load(Ordering::SeqCst), before + 4, "the original and three copies");

        // The copies' replies are kept once all have come back, which may be after the original's.
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        while proxy.seen()[6].copies.len() < 3 && Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(proxy.bytes_up(), 6 * POST.len() as u64, "six requests went through whole");
        let seen = proxy.seen();
        let faults: Vec<_> = seen.iter().map(|s| s.fault).collect();
        assert_eq!(
            faults,
            [
                None,
                Some("lose_response"),
                Some("unavailable"),
                Some("after_response"),
                None,
                Some("truncate"),
                Some("duplicate")
            ]
        );
        let copies = &seen[6].copies;
        assert_eq!(copies.len(), 3);
        assert!(copies.iter().all(|c| c.starts_with(b"HTTP/1.1 200") && c.ends_with(b"ok")));
    }

    #[tokio::test]
    async fn keeps_requests_apart_on_one_connection() {
        let (up, hits) = upstream().await;
        let proxy = FaultProxy::start(up).await;
        proxy.add_rule(Rule::new("GET", "/health", 5, Fault::Cut));
        proxy.add_rule(Rule::new("POST", "/batches", 1, Fault::Cut).skipping(2));
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        s.write_all(format!("{POST}{POST}").as_bytes()).await.unwrap();
        let mut out = Vec::new();
        let mut chunk = [0u8; 4096];
        while out.windows(2).filter(|w| w == b"ok").count() < 2 {
            let n = s.read(&mut chunk).await.unwrap();
            assert!(n > 0);
            out.extend_from_slice(&chunk[..n]);
        }
        assert_eq!(hits.load(Ordering::SeqCst), 2);
        assert_eq!(proxy.seen().len(), 2);
    }
}
