//! TLS settings in the shape of Godot's `TLSOptions`, built on rustls.
//!
//! The crypto provider is chosen explicitly: rustls's `ring` provider, passed to
//! every config we build. Nothing depends on a process-wide default provider, so
//! no process can panic for lack of one (tokio-tungstenite#336).

use std::{fmt, path::Path, sync::Arc, sync::OnceLock};

use rustls::{
    ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme,
    client::{
        WebPkiServerVerifier,
        danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    },
    crypto::{CryptoProvider, WebPkiSupportedAlgorithms, ring},
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime, pem::PemObject};

use crate::error::TlsConfigError;

/// TLS settings for one side of a connection: Godot's `TLSOptions`.
///
/// Build it once and share it: it holds a ready rustls configuration, so every
/// problem with the certificates or the key shows up here, not at connect time.
#[derive(Clone)]
pub struct TlsOptions {
    mode: Mode,
}

#[derive(Clone)]
enum Mode {
    Client {
        config: Arc<ClientConfig>,
        name_override: Option<String>,
        unsafe_client: bool,
    },
    Server {
        config: Arc<ServerConfig>,
    },
}

impl TlsOptions {
    /// A verifying client (Godot's `TLSOptions.client`): the server's certificate
    /// must chain to `trusted_ca` (PEM, one or more certificates) or, when `None`,
    /// to the system's trust store; its name must match the URL's host, or
    /// `common_name_override` when given.
    pub fn client(
        trusted_ca: Option<&[u8]>,
        common_name_override: Option<&str>,
    ) -> Result<Self, TlsConfigError> {
        let roots = match trusted_ca {
            Some(pem) => roots_from_pem(pem)?,
            None => system_roots()?,
        };
        let config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsConfigError::Rustls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self::client_mode(config, common_name_override, false))
    }

    /// A client that does not check the server's name, and checks nothing at all
    /// when `trusted_ca` is `None` (Godot's `TLSOptions.client_unsafe`).
    ///
    /// **Unsafe**: anyone on the path can read and change the traffic. For
    /// development against self-signed certificates only.
    pub fn client_unsafe(trusted_ca: Option<&[u8]>) -> Result<Self, TlsConfigError> {
        let verifier: Arc<dyn ServerCertVerifier> = match trusted_ca {
            Some(pem) => {
                let inner = WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots_from_pem(pem)?),
                    provider(),
                )
                .build()
                .map_err(|e| TlsConfigError::Rustls(e.to_string()))?;
                Arc::new(IgnoreName { inner })
            }
            None => Arc::new(AcceptAnything {
                algorithms: provider().signature_verification_algorithms,
            }),
        };
        let config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsConfigError::Rustls(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(Self::client_mode(config, None, true))
    }

    /// A server (Godot's `TLSOptions.server`): its private key and its certificate
    /// chain, both PEM, the server's own certificate first.
    pub fn server(key: &[u8], certificate_chain: &[u8]) -> Result<Self, TlsConfigError> {
        let chain = certificates_from_pem(certificate_chain)?;
        let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| match e {
            rustls_pki_types::pem::Error::NoItemsFound => TlsConfigError::NoPrivateKey,
            other => TlsConfigError::InvalidPem(other.to_string()),
        })?;
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsConfigError::Rustls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| match e {
                rustls::Error::InconsistentKeys(_) => TlsConfigError::KeyMismatch,
                other => TlsConfigError::Rustls(other.to_string()),
            })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            mode: Mode::Server {
                config: Arc::new(config),
            },
        })
    }

    /// [`TlsOptions::server`] with the key and chain read from PEM files.
    pub fn server_from_files(
        key_path: impl AsRef<Path>,
        certificate_chain_path: impl AsRef<Path>,
    ) -> Result<Self, TlsConfigError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|e| TlsConfigError::Unreadable {
                path: path.display().to_string(),
                reason: e.to_string(),
            })
        };
        let key = read(key_path.as_ref())?;
        let chain = read(certificate_chain_path.as_ref())?;
        Self::server(&key, &chain)
    }

    /// Whether these are server options.
    pub fn is_server(&self) -> bool {
        matches!(self.mode, Mode::Server { .. })
    }

    /// Whether these are `client_unsafe` options.
    pub fn is_unsafe_client(&self) -> bool {
        matches!(
            self.mode,
            Mode::Client {
                unsafe_client: true,
                ..
            }
        )
    }

    /// The name checked instead of the URL's host, if any.
    pub fn common_name_override(&self) -> Option<&str> {
        match &self.mode {
            Mode::Client { name_override, .. } => name_override.as_deref(),
            Mode::Server { .. } => None,
        }
    }

    /// The default client options (system trust store), built once per process.
    pub(crate) fn default_client() -> Result<Self, TlsConfigError> {
        static DEFAULT: OnceLock<Result<TlsOptions, TlsConfigError>> = OnceLock::new();
        DEFAULT
            .get_or_init(|| TlsOptions::client(None, None))
            .clone()
    }

    pub(crate) fn client_config(&self) -> Option<(&Arc<ClientConfig>, Option<&str>)> {
        match &self.mode {
            Mode::Client {
                config,
                name_override,
                ..
            } => Some((config, name_override.as_deref())),
            Mode::Server { .. } => None,
        }
    }

    pub(crate) fn server_config(&self) -> Option<&Arc<ServerConfig>> {
        match &self.mode {
            Mode::Server { config } => Some(config),
            Mode::Client { .. } => None,
        }
    }

    fn client_mode(mut config: ClientConfig, name: Option<&str>, unsafe_client: bool) -> Self {
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Self {
            mode: Mode::Client {
                config: Arc::new(config),
                name_override: name.filter(|n| !n.is_empty()).map(str::to_owned),
                unsafe_client,
            },
        }
    }
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.mode {
            Mode::Client {
                name_override,
                unsafe_client,
                ..
            } => f
                .debug_struct("TlsOptions::Client")
                .field("common_name_override", name_override)
                .field("unsafe", unsafe_client)
                .finish(),
            Mode::Server { .. } => f.write_str("TlsOptions::Server"),
        }
    }
}

/// Two options are equal when they share one configuration (clones of each other).
impl PartialEq for TlsOptions {
    fn eq(&self, other: &Self) -> bool {
        match (&self.mode, &other.mode) {
            (Mode::Client { config: a, .. }, Mode::Client { config: b, .. }) => Arc::ptr_eq(a, b),
            (Mode::Server { config: a }, Mode::Server { config: b }) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for TlsOptions {}

/// rustls's `ring` provider, named explicitly everywhere.
fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(ring::default_provider()))
        .clone()
}

fn certificates_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsConfigError::InvalidPem(e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsConfigError::NoCertificate);
    }
    Ok(certs)
}

fn roots_from_pem(pem: &[u8]) -> Result<RootCertStore, TlsConfigError> {
    let mut roots = RootCertStore::empty();
    for cert in certificates_from_pem(pem)? {
        roots
            .add(cert)
            .map_err(|e| TlsConfigError::InvalidPem(e.to_string()))?;
    }
    Ok(roots)
}

fn system_roots() -> Result<RootCertStore, TlsConfigError> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let errors: Vec<String> = found.errors.iter().map(|e| e.to_string()).collect();
        return Err(TlsConfigError::NoSystemRoots(errors.join("; ")));
    }
    Ok(roots)
}

/// `client_unsafe` with a CA: the chain must verify, the name is not checked.
#[derive(Debug)]
struct IgnoreName {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for IgnoreName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        use rustls::{CertificateError, Error};
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// `client_unsafe` without a CA: any certificate. The handshake signatures are
/// still checked, so the server must at least hold the key of what it shows.
#[derive(Debug)]
struct AcceptAnything {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
