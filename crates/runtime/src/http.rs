//! Outbound HTTP for P2 components, through a policy. Every connection goes to
//! an address we resolved and checked ourselves (never re-resolved by name),
//! so a name that points at loopback, a private network or the cloud metadata
//! endpoint is refused however it is spelled.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::uri::Scheme;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use tokio::net::TcpStream;
use tokio::time::{Sleep, timeout};
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use crate::near::{self, NEAR_HOST, NearReads, ReadCount};

/// What a program may reach over HTTP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpPolicy {
    /// Off means every request is refused.
    pub enabled: bool,
    /// When non-empty, only these hosts (exact names or IP literals). An IP
    /// literal or `localhost` listed here is the one way to reach a private
    /// or loopback address: an explicit opt-in for tests and development.
    pub allowed_hosts: Vec<String>,
    /// Requests per execution.
    pub max_requests: u32,
    /// Connect, first byte and between bytes, each.
    pub request_timeout: Duration,
    /// Largest response body a program may read.
    pub max_response_bytes: usize,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            allowed_hosts: Vec::new(),
            max_requests: 16,
            request_timeout: Duration::from_secs(10),
            max_response_bytes: 10 * 1024 * 1024,
        }
    }
}

impl HttpPolicy {
    /// No network at all.
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    fn host_allowed(&self, host: &str) -> bool {
        self.allowed_hosts.is_empty()
            || self
                .allowed_hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(host))
    }

    /// Private and loopback addresses only for hosts named explicitly as an
    /// IP literal or `localhost`.
    fn private_allowed(&self, host: &str) -> bool {
        let explicit = host.parse::<IpAddr>().is_ok() || host.eq_ignore_ascii_case("localhost");
        explicit
            && self
                .allowed_hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(host))
    }
}

/// True for addresses a sandboxed program must never reach: loopback,
/// private, link-local (cloud metadata lives there), CGNAT, multicast,
/// broadcast, unspecified, reserved and documentation ranges, and IPv6 forms
/// that embed such an IPv4 address.
pub fn is_blocked_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_blocked_v4(v4),
        IpAddr::V6(v6) => is_blocked_v6(v6),
    }
}

fn is_blocked_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_unspecified()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64.0.0/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

fn is_blocked_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_blocked_v4(v4);
    }
    let segments = ip.segments();
    let embedded_v4 =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local
        || (segments[0] & 0xffc0) == 0xfe80 // link-local
        || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        // IPv4-compatible ::a.b.c.d
        || (segments[..6].iter().all(|s| *s == 0) && is_blocked_v4(embedded_v4(segments[6], segments[7])))
        // NAT64 64:ff9b::/96
        || (segments[0] == 0x64 && segments[1] == 0xff9b && segments[2..6].iter().all(|s| *s == 0)
            && is_blocked_v4(embedded_v4(segments[6], segments[7])))
        // 6to4 2002:a.b.c.d::/48
        || (segments[0] == 0x2002 && is_blocked_v4(embedded_v4(segments[1], segments[2])))
        || segments[0] == 0x2001 && segments[1] == 0x0db8 // documentation
}

/// Per-execution HTTP state: the policy and what has been used of it, and
/// the NEAR reads answered at [`crate::near::NEAR_HOST`].
pub(crate) struct PolicyHooks {
    policy: Arc<HttpPolicy>,
    requests: u32,
    near: Option<Arc<NearReads>>,
    near_reads: ReadCount,
}

impl PolicyHooks {
    pub(crate) fn new(policy: HttpPolicy, near: Option<NearReads>) -> Self {
        Self {
            policy: Arc::new(policy),
            requests: 0,
            near: near.map(Arc::new),
            near_reads: ReadCount::default(),
        }
    }

    /// NEAR reads asked for so far.
    pub(crate) fn near_reads(&self) -> u32 {
        self.near_reads.get()
    }
}

/// What the connection's driver reports once the response is handed over.
type IoFuture = Box<dyn Future<Output = Result<(), Error>> + Send>;
/// The response and the connection's driver, as `wasi:http` wants them.
type SendFuture =
    Box<dyn Future<Output = Result<(http::Response<WasiBody>, IoFuture), Error>> + Send>;

/// What wasi-http uses when a request sets no timeout of its own.
const UNSET_TIMEOUT: Duration = Duration::from_secs(600);

impl WasiHttpHooks for PolicyHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _response_errors: IoFuture,
    ) -> SendFuture {
        // NEAR reads are the sandbox's own answers, not network requests:
        // they have their own switch and budget.
        if request.uri().host() == Some(NEAR_HOST) {
            let near = self.near.clone();
            let count = self.near_reads.clone();
            return Box::new(async move {
                let response = near::answer(near.as_deref(), &count, request).await;
                let done: IoFuture = Box::new(std::future::ready(Ok(())));
                Ok((response, done))
            });
        }
        // Switch and count are decided here, when the guest sends, not when
        // the returned future first runs.
        if !self.policy.enabled {
            return refused(denied("outbound HTTP is disabled for this execution"));
        }
        if self.requests >= self.policy.max_requests {
            return refused(denied(&format!(
                "request limit of {} per execution reached",
                self.policy.max_requests
            )));
        }
        self.requests += 1;
        let policy = self.policy.clone();
        Box::new(async move { send_checked(&policy, request, options).await })
    }
}

fn refused(error: Error) -> SendFuture {
    Box::new(std::future::ready(Err(error)))
}

fn dns_error() -> Error {
    Error::DnsError {
        rcode: None,
        info_code: None,
    }
}

fn denied(reason: &str) -> Error {
    tracing::info!(reason, "outbound HTTP request refused");
    Error::HttpRequestDenied
}

/// A request's own timeout, never above the policy's.
fn capped(policy: Duration, asked: Option<Duration>) -> Duration {
    policy.min(asked.unwrap_or(UNSET_TIMEOUT))
}

/// Resolves the request's host, checks every address, and sends the request
/// over a connection to a checked address.
async fn send_checked(
    policy: &HttpPolicy,
    mut request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
) -> Result<(http::Response<WasiBody>, IoFuture), Error> {
    let uri = request.uri().clone();
    let use_tls = uri.scheme() == Some(&Scheme::HTTPS);
    let host = uri
        .host()
        .ok_or(Error::HttpRequestUriInvalid)?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    if !policy.host_allowed(&host) {
        return Err(denied(&format!("host {host:?} is not in the allow list")));
    }
    let port = uri.port_u16().unwrap_or(if use_tls { 443 } else { 80 });
    let options = options.unwrap_or_default();
    let per_step = policy.request_timeout.min(
        options
            .connect_timeout
            .unwrap_or(UNSET_TIMEOUT)
            .max(Duration::from_millis(1)),
    );

    let addresses: Vec<SocketAddr> =
        timeout(per_step, tokio::net::lookup_host((host.as_str(), port)))
            .await
            .map_err(|_| Error::DnsTimeout)?
            .map_err(|_| dns_error())?
            .collect();
    if addresses.is_empty() {
        return Err(dns_error());
    }
    // One blocked answer taints the name: mixed answers are how rebinding works.
    if !policy.private_allowed(&host) && addresses.iter().any(|a| is_blocked_address(a.ip())) {
        tracing::info!(
            host,
            "outbound HTTP to a private or reserved address refused"
        );
        return Err(Error::DestinationIpProhibited);
    }

    let tcp = timeout(per_step, TcpStream::connect(addresses[0]))
        .await
        .map_err(|_| Error::ConnectionTimeout)?
        .map_err(|_| Error::ConnectionRefused)?;

    if !request.headers().contains_key(hyper::header::HOST) {
        let authority = uri.authority().map(|a| a.as_str()).unwrap_or(&host);
        if let Ok(value) = hyper::header::HeaderValue::from_str(authority) {
            request.headers_mut().insert(hyper::header::HOST, value);
        }
    }
    // Origin-form on the wire: scheme and authority only belong in proxy requests.
    *request.uri_mut() = http::Uri::builder()
        .path_and_query(uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"))
        .build()
        .map_err(|_| Error::HttpRequestUriInvalid)?;

    let (mut sender, connection) = if use_tls {
        let stream = tls_connect(&host, tcp, per_step).await?;
        handshake(TokioIo::new(stream), per_step).await?
    } else {
        handshake(TokioIo::new(tcp), per_step).await?
    };

    let first_byte = capped(policy.request_timeout, options.first_byte_timeout);
    let response = timeout(first_byte, sender.send_request(request))
        .await
        .map_err(|_| Error::ConnectionReadTimeout)?
        .map_err(Error::from)?;
    let between_bytes = capped(policy.request_timeout, options.between_bytes_timeout);
    let max = policy.max_response_bytes;
    let response = response.map(|body| ResponseBody::new(body, max, between_bytes).boxed_unsync());
    Ok((response, connection))
}

async fn tls_connect(
    host: &str,
    tcp: TcpStream,
    limit: Duration,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, Error> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.into(),
    };
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|_| Error::TlsProtocolError)?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|_| Error::TlsProtocolError)?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    timeout(limit, connector.connect(name, tcp))
        .await
        .map_err(|_| Error::ConnectionTimeout)?
        .map_err(|_| Error::TlsProtocolError)
}

type Sender = hyper::client::conn::http1::SendRequest<WasiBody>;

/// The HTTP/1 handshake; the connection is driven by its own task, which
/// the returned future owns (dropping it aborts the connection).
async fn handshake<S>(io: TokioIo<S>, limit: Duration) -> Result<(Sender, IoFuture), Error>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (sender, connection) = timeout(limit, hyper::client::conn::http1::handshake(io))
        .await
        .map_err(|_| Error::ConnectionTimeout)??;
    let worker = wasmtime_wasi::runtime::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "outbound HTTP connection ended with an error");
        }
    });
    let driver: IoFuture = Box::new(async move {
        worker.await;
        Ok(())
    });
    Ok((sender, driver))
}

/// A response body with the policy's size cap and between-bytes timeout: a
/// frame must arrive within `between_bytes` of being asked for.
struct ResponseBody {
    incoming: Incoming,
    remaining: usize,
    max: usize,
    between_bytes: Duration,
    timer: Pin<Box<Sleep>>,
    waiting: bool,
}

impl ResponseBody {
    fn new(incoming: Incoming, max: usize, between_bytes: Duration) -> Self {
        Self {
            incoming,
            remaining: max,
            max,
            between_bytes,
            timer: Box::pin(tokio::time::sleep(between_bytes)),
            waiting: false,
        }
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = self.get_mut();
        if !this.waiting {
            this.timer
                .as_mut()
                .reset(tokio::time::Instant::now() + this.between_bytes);
            this.waiting = true;
        }
        let frame = match Pin::new(&mut this.incoming).poll_frame(cx) {
            Poll::Ready(frame) => frame,
            Poll::Pending => {
                return match this.timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(Error::ConnectionReadTimeout))),
                    Poll::Pending => Poll::Pending,
                };
            }
        };
        this.waiting = false;
        Poll::Ready(match frame {
            None => None,
            Some(Err(e)) if e.is_timeout() => Some(Err(Error::HttpResponseTimeout)),
            Some(Err(e)) => Some(Err(Error::from(e))),
            Some(Ok(frame)) => {
                let len = frame.data_ref().map_or(0, Bytes::len);
                match this.remaining.checked_sub(len) {
                    Some(left) => {
                        this.remaining = left;
                        Some(Ok(frame))
                    }
                    None => Some(Err(Error::HttpResponseBodySize(Some(this.max as u64)))),
                }
            }
        })
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.incoming.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_ranges() {
        for blocked in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "224.0.0.1",
            "255.255.255.255",
            "0.0.0.0",
            "0.1.2.3",
            "240.0.0.1",
            "198.18.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:0a00:0001::1",
        ] {
            assert!(
                is_blocked_address(blocked.parse().unwrap()),
                "{blocked} must be blocked"
            );
        }
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "100.128.0.1",
            "172.32.0.1",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            assert!(
                !is_blocked_address(public.parse().unwrap()),
                "{public} must be allowed"
            );
        }
    }

    #[test]
    fn private_addresses_need_an_explicit_literal_or_localhost() {
        let open = HttpPolicy::default();
        assert!(open.host_allowed("example.com"));
        assert!(!open.private_allowed("127.0.0.1"));
        let explicit = HttpPolicy {
            allowed_hosts: vec!["127.0.0.1".into(), "internal.example".into()],
            ..HttpPolicy::default()
        };
        assert!(explicit.private_allowed("127.0.0.1"));
        assert!(
            !explicit.private_allowed("internal.example"),
            "names never unlock private ranges"
        );
        assert!(!explicit.host_allowed("example.com"));
    }
}
