//! The server speaks TLS itself when its config names a certificate and key: devices that
//! trust the certificate sign in and sync over HTTPS; a device that does not trust it gets a
//! clear, final error (not an endless "offline" retry), and nothing reaches the server.
//! The certificate is made in the test (rcgen), self-signed for `localhost`.
#![allow(clippy::unwrap_used)]

use cunji_core::domain::{Team, Village};
use cunji_core::sync::{SyncError, TransportError};
use cunji_sync_server::accounts::Role;
use cunji_sync_server::config::Config;
use cunji_tests::{Backend, Device, TestServer, household};

pub(crate) struct TlsServer {
    pub(crate) server: TestServer,
    cert_pem: Vec<u8>,
    _dir: tempfile::TempDir,
}

fn tls_server() -> TlsServer {
    tls_server_with(Config::default())
}

/// A server speaking TLS with a certificate made for `localhost`, with `config`'s other settings.
pub(crate) fn tls_server_with(config: Config) -> TlsServer {
    let dir = tempfile::tempdir().unwrap();
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_pem = made.cert.pem();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, &cert_pem).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    let server = TestServer::start_with(
        Backend::Sqlite,
        Config {
            tls_cert: Some(cert.display().to_string()),
            tls_key: Some(key.display().to_string()),
            ..config
        },
    );
    assert!(
        server.url.starts_with("https://localhost:"),
        "{}",
        server.url
    );
    TlsServer {
        server,
        cert_pem: cert_pem.into_bytes(),
        _dir: dir,
    }
}

#[test]
fn devices_that_trust_the_certificate_sync_over_tls() {
    let t = tls_server();
    let s = &t.server;
    s.account("admin", Role::Admin, "");
    s.account("cadre-wang-zhigang", Role::FirstSecretary, "");
    s.account("cadre-li-ming", Role::TeamMember, "");
    let mut admin = Device::new(&s.url, "admin").trusting(&t.cert_pem).sign_in();
    let who = admin.author("建村");
    admin.store.create(&who, &Village::example()).unwrap();
    admin.store.create(&who, &Team::example()).unwrap();
    assert_eq!(admin.sync().unwrap().rejected, 0);

    let mut leader = Device::new(&s.url, "cadre-wang-zhigang")
        .trusting(&t.cert_pem)
        .sign_in();
    let hid = leader
        .store
        .create(&leader.author("建档立卡"), &household(1))
        .unwrap();
    let report = leader.sync().unwrap();
    assert_eq!((report.pushed, report.rejected), (1, 0), "{report:?}");

    let mut member = Device::new(&s.url, "cadre-li-ming")
        .trusting(&t.cert_pem)
        .sign_in();
    member.sync().unwrap();
    assert_eq!(
        member.store.document_json(&hid).unwrap(),
        leader.store.document_json(&hid).unwrap()
    );
    // Plain HTTP to the TLS port gets no answer the client could take for one.
    let plain = s.url.replace("https://", "http://");
    assert!(reqwest::blocking::get(format!("{plain}/healthz")).is_err());
}

#[test]
fn a_device_that_does_not_trust_the_certificate_gets_a_clear_final_error() {
    let t = tls_server();
    let s = &t.server;
    s.account("cadre-li-ming", Role::TeamMember, "");
    let device = Device::new(&s.url, "cadre-li-ming");
    match cunji_core::sync::login(
        &s.url,
        "cadre-li-ming",
        cunji_tests::PASSWORD,
        &device.store,
    ) {
        Err(e @ TransportError::Untrusted(_)) => {
            // What a person reads: in Chinese first, with rustls' reason.
            let message = e.to_string();
            assert!(message.starts_with("服务器证书不受信任"), "{message}");
            assert!(message.contains("UnknownIssuer"), "{message}");
        }
        other => panic!("expected Untrusted, got {other:?}"),
    }

    // Signed in while trusting it, then the device loses the certificate (a reinstall, a
    // changed server certificate): sync stops at once with the reason, the records stay.
    let mut trusted = Device::new(&s.url, "cadre-li-ming")
        .trusting(&t.cert_pem)
        .sign_in();
    trusted
        .store
        .create(&trusted.author("打卡"), &{
            let mut c = cunji_core::domain::CheckIn::example();
            c.cadre_id = "cadre-li-ming".into();
            c
        })
        .unwrap();
    trusted.root_pem = None;
    match trusted.sync_with(5) {
        Err(e @ SyncError::Refused(TransportError::Untrusted(_))) => {
            assert_eq!(e.code(), "untrusted_server");
        }
        other => panic!("expected a refusal for the certificate, got {other:?}"),
    }
    assert_eq!(trusted.store.outbox_len().unwrap(), 1);
    assert_eq!(s.change_count(), 0);
}

#[test]
fn a_certificate_without_its_key_or_a_bad_file_is_refused_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, "not a certificate").unwrap();
    let only_cert = Config {
        tls_cert: Some(cert.display().to_string()),
        ..Config::default()
    };
    let e = only_cert.tls().unwrap_err().to_string();
    assert!(e.contains("set both"), "{e}");
    let bad = Config {
        tls_key: Some(cert.display().to_string()),
        ..only_cert
    };
    let e = bad.tls().unwrap_err().to_string();
    assert!(e.contains("cert.pem"), "{e}");
    assert!(Config::default().tls().unwrap().is_none());
}
