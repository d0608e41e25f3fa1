//! TLS termination with rustls (ring provider, HTTP/1.1 only): the
//! certificate chain and key from PEM files (`[server.tls]`), behind a
//! resolver whose key can be swapped, so a config reload (SIGHUP) puts a
//! renewed certificate in place for new handshakes without dropping the
//! connections already open. No client certificates.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::ServerConfig;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// Why the certificate or key could not be used. Names the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file that cannot be read, or holds no usable PEM item.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The key does not belong to the certificate.
    #[error("certificate and key do not go together: {0}")]
    Mismatch(String),
    /// rustls refused the setup.
    #[error("TLS setup: {0}")]
    Setup(String),
}

/// A certificate resolver holding one certificate that can be replaced.
struct SwappableCert(ArcSwap<CertifiedKey>);

impl fmt::Debug for SwappableCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SwappableCert")
    }
}

impl ResolvesServerCert for SwappableCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.load_full())
    }
}

/// The server's TLS state: where the PEM files are, the current
/// certificate, and the acceptor handshakes go through.
pub struct Tls {
    cert_path: PathBuf,
    key_path: PathBuf,
    resolver: Arc<SwappableCert>,
    pub(super) acceptor: TlsAcceptor,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("cert", &self.cert_path)
            .field("key", &self.key_path)
            .finish()
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn file_error(path: &Path, message: impl fmt::Display) -> TlsError {
    TlsError::File {
        path: path.to_owned(),
        message: message.to_string(),
    }
}

/// Reads a PEM certificate chain (leaf first) and its private key (PKCS#8,
/// PKCS#1 or SEC1), and checks that they match.
pub fn load_certified_key(cert: &Path, key: &Path) -> Result<CertifiedKey, TlsError> {
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| file_error(cert, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(cert, e))?;
    if chain.is_empty() {
        return Err(file_error(cert, "no certificate in the file"));
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| file_error(key, e))?;
    CertifiedKey::from_der(chain, private, &provider())
        .map_err(|e| TlsError::Mismatch(e.to_string()))
}

impl Tls {
    /// Reads the files and builds the acceptor (TLS 1.2 and 1.3, ALPN
    /// `http/1.1`).
    pub fn load(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Result<Tls, TlsError> {
        let (cert_path, key_path) = (cert.into(), key.into());
        let certified = load_certified_key(&cert_path, &key_path)?;
        let resolver = Arc::new(SwappableCert(ArcSwap::from_pointee(certified)));
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Setup(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(resolver.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls {
            cert_path,
            key_path,
            resolver,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// The certificate and key files.
    pub fn paths(&self) -> (&Path, &Path) {
        (&self.cert_path, &self.key_path)
    }

    /// Takes `other`'s certificate (one loaded by a config reload): new
    /// handshakes present it; open connections keep theirs.
    pub fn replace_cert(&self, other: &Tls) {
        self.resolver.0.store(other.resolver.0.load_full());
    }

    /// The end-entity certificate presented now (DER).
    pub fn current_cert(&self) -> CertificateDer<'static> {
        self.resolver.0.load().cert[0].clone()
    }
}
