//! The head-office hub (`shared/brief/sync.md`): every centre's devices send their changes here,
//! exactly once in effect, and pull head office's reference data. Storage is SQLite or
//! PostgreSQL behind one [`Storage`] trait; the HTTP API is in [`http`]; the command line in [`cli`].
//!
//! Other crates' tests start a hub in-process:
//! ```no_run
//! # async fn f() -> pops_hub::Result<()> {
//! let storage = pops_hub::open("sqlite:///tmp/hub.db")?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! pops_hub::serve(listener, storage, std::future::pending()).await
//! # }
//! ```

pub mod cli;
pub mod error;
pub mod http;
pub mod import;
pub mod limit;
pub mod office;
pub mod report;
pub mod secret;
pub mod storage;

pub use error::{Error, Result};
pub use http::router;
pub use storage::{
    CentreState, CentreSummary, DeviceState, OfficeKey, OfficeKeySummary, PgStorage, PushOutcome, QuarantineEntry,
    SqliteStorage, Storage, TokenCheck, open,
};

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How long a TLS server waits, after the shutdown signal, for requests in flight.
const TLS_DRAIN: Duration = Duration::from_secs(30);

/// Serves the hub over plain HTTP on `listener` until `shutdown` completes; requests in flight
/// then finish before this returns. For loopback addresses (or behind a TLS-terminating proxy).
pub async fn serve(
    listener: tokio::net::TcpListener,
    storage: Arc<dyn Storage>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let app = router(storage).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
    Ok(())
}

/// Reads a PEM certificate chain and private key into a rustls server configuration (ring
/// provider, TLS 1.2 and 1.3, HTTP/1.1).
pub fn tls_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let unreadable = |what: &str, path: &Path, e: &dyn std::fmt::Display| {
        Error::Invalid(format!("the TLS {what} {} cannot be read: {e}", path.display()))
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| unreadable("certificate", cert, &e))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| unreadable("certificate", cert, &e))?;
    if certs.is_empty() {
        return Err(Error::Invalid(format!("{} holds no PEM certificate", cert.display())));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| unreadable("key", key, &e))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Invalid(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| Error::Invalid(format!("the TLS certificate and key do not go together: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves the hub over HTTPS on `listener` until `shutdown` completes; requests in flight then
/// get up to 30 seconds to finish.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    storage: Arc<dyn Storage>,
    tls: Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let app = http::router_for(storage, true).into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::new();
    let signal = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        signal.graceful_shutdown(Some(TLS_DRAIN));
    });
    let config = axum_server::tls_rustls::RustlsConfig::from_config(tls);
    axum_server::from_tcp_rustls(listener.into_std()?, config)?.handle(handle).serve(app).await?;
    Ok(())
}
