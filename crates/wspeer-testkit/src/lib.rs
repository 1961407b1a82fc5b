//! Test support for wspeer (not published): the bounded waits every test uses
//! ([`wait`]), a throw-away certificate authority and the certificates the TLS
//! tests need, made fresh by each test run, and the rules for interop tests
//! whose outside program is missing ([`interop`]).

pub mod godot;
pub mod interop;
pub mod wait;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

/// A certificate and its private key, both PEM.
#[derive(Debug, Clone)]
pub struct CertAndKey {
    /// The certificate chain, leaf first (here: just the leaf).
    pub cert_pem: String,
    /// The leaf's private key.
    pub key_pem: String,
}

/// A certificate authority made for one test.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestCa")
    }
}

impl TestCa {
    /// A new CA with a fresh key.
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().expect("CA key");
        let issuer = CertifiedIssuer::self_signed(params, key).expect("CA certificate");
        Self { issuer }
    }

    /// The CA's certificate, PEM: what a client trusts.
    pub fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `names`, valid from yesterday for a year.
    pub fn server_cert(&self, names: &[&str]) -> CertAndKey {
        let now = OffsetDateTime::now_utc();
        self.server_cert_valid(names, now - Duration::days(1), now + Duration::days(365))
    }

    /// A server certificate for `names` that expired yesterday.
    pub fn expired_server_cert(&self, names: &[&str]) -> CertAndKey {
        let now = OffsetDateTime::now_utc();
        self.server_cert_valid(names, now - Duration::days(30), now - Duration::days(1))
    }

    fn server_cert_valid(
        &self,
        names: &[&str],
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> CertAndKey {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).expect("server params");
        params
            .distinguished_name
            .push(DnType::CommonName, "wspeer test server");
        params.not_before = not_before;
        params.not_after = not_after;
        let key = KeyPair::generate().expect("server key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("server certificate");
        CertAndKey {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// A self-signed certificate for `names` (no CA): what `client_unsafe` accepts.
pub fn self_signed(names: &[&str]) -> CertAndKey {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let certified = rcgen::generate_simple_self_signed(names).expect("self-signed certificate");
    CertAndKey {
        cert_pem: certified.cert.pem(),
        key_pem: certified.signing_key.serialize_pem(),
    }
}
